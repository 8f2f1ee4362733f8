"""Counters in moving windows kept in Redis (the `limits` library): login attempts, anonymous
image renders. The limiter lives in the app's extensions, not in a module global, so that
several apps in one process (tests, scripts) never share or reset each other's counters."""

from __future__ import annotations

from functools import cache
from typing import cast

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def init_rate_limits(app: Flask) -> None:
    storage = storage_from_string(
        app.config["RATELIMIT_STORAGE_URI"], key_prefix=app.config["RATELIMIT_KEY_PREFIX"]
    )
    app.extensions["rate_limiter"] = MovingWindowRateLimiter(storage)


def _limiter() -> MovingWindowRateLimiter:
    return cast(MovingWindowRateLimiter, current_app.extensions["rate_limiter"])


@cache
def _limit(text: str) -> RateLimitItem:
    # Read once per setting's text: every API call counts one.
    return parse(text)


def hit(setting: str, scope: str, key: str) -> bool:
    """Count one under the limit named by `setting` (e.g. "10 per minute"); False once over."""
    return _limiter().hit(_limit(current_app.config[setting]), scope, key)


def within(setting: str, scope: str, key: str) -> bool:
    """Whether one more would still be within the limit, counting nothing."""
    return _limiter().test(_limit(current_app.config[setting]), scope, key)


def reset_rate_limits() -> None:
    _limiter().storage.reset()
