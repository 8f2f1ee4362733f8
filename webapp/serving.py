"""gunicorn's settings for the web app: `gunicorn --config python:webapp.serving wsgi:app`."""

from __future__ import annotations

from typing import Any

from longlived.warmup import warm


def post_worker_init(worker: Any) -> None:
    """Each web process warms its app before its first request."""
    warm(worker.wsgi)
