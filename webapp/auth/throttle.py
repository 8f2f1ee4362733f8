"""Login attempts per address, in a moving window kept in Redis (the `limits` library).

The limiter lives in the app's extensions, not in a module global, so that several apps in
one process (tests, scripts) never share or reset each other's counters.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def init_throttle(app: Flask) -> None:
    storage = storage_from_string(
        app.config["RATELIMIT_STORAGE_URI"], key_prefix=app.config["RATELIMIT_KEY_PREFIX"]
    )
    app.extensions["login_throttle"] = MovingWindowRateLimiter(storage)


def _throttle() -> MovingWindowRateLimiter:
    return cast(MovingWindowRateLimiter, current_app.extensions["login_throttle"])


def login_attempt_allowed() -> bool:
    """Count one attempt from this address; False once over LOGIN_RATE_LIMIT."""
    limit = parse(current_app.config["LOGIN_RATE_LIMIT"])
    return _throttle().hit(limit, "login", request.remote_addr or "unknown")


def reset_throttle() -> None:
    _throttle().storage.reset()
