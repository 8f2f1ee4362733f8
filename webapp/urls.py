"""URLs of this app as others reach them (the processing API, emails)."""

from __future__ import annotations

from typing import Any

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """A URL the processing API can reach: APP_URL, whatever host a request came through."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return f"{current_app.config['APP_URL']}{path}"
