"""Unguessable, expiring keys that stand in for a session: the processing API reading a crop
list, a share link to a private set's annotations. Each is signed with SECRET_KEY for one
purpose and one object, so a key for one region set opens no other."""

from __future__ import annotations

import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"capability:{purpose}")


def issue(purpose: str, subject: str) -> str:
    return _serializer(purpose).dumps(subject)


def holds(purpose: str, subject: str, key: str | None, max_age: float) -> bool:
    """Whether `key` was issued for this purpose and subject less than `max_age` seconds ago."""
    if not key:
        return False
    try:
        signed = _serializer(purpose).loads(key, max_age=int(max_age))
    except BadSignature:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, subject)
