"""URLs as they may be written down: the values of secret query parameters replaced."""

from __future__ import annotations

import re

SECRET_PARAMETERS = ("token", "key", "share", "secret", "signature", "sig", "access_token")
_SECRET = re.compile(
    r"((?:^|[?&;])(?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;#\s\"]*", re.IGNORECASE
)


def redacted(text: str) -> str:
    """`text` (a URL, a request line, a message naming URLs) with secret values hidden."""
    return _SECRET.sub(r"\1[redacted]", text)
