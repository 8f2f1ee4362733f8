"""Login attempts per address and per account, in moving windows kept in Redis (the `limits`
library). Every attempt counts for its address; failed ones count for the account, so that a
password guessed from many addresses is stopped too, and one address's mistakes lock out no
other visitor behind the same proxy.

The limiter lives in the app's extensions, not in a module global, so that several apps in
one process (tests, scripts) never share or reset each other's counters.
"""

from __future__ import annotations

import hashlib
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


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def account_locked(email: str) -> bool:
    """Whether this account had LOGIN_ACCOUNT_RATE_LIMIT failed logins in the window."""
    limit = parse(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])
    return not _throttle().test(limit, "login-account", _account(email))


def count_failure(email: str) -> None:
    limit = parse(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])
    _throttle().hit(limit, "login-account", _account(email))


def reset_throttle() -> None:
    _throttle().storage.reset()
