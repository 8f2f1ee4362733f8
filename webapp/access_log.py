"""gunicorn's access log without secrets: notification tokens, crop-list and share keys in
request lines, queries, referrers and the environment, and credentials in headers, are
replaced before a line is written."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from outbound import redacted

HIDDEN_HEADERS = ("{authorization}i", "{cookie}i")


class RedactedAccessLog(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = redacted(value)
        for name in HIDDEN_HEADERS:
            if name in atoms:
                atoms[name] = "[redacted]"
        return atoms
