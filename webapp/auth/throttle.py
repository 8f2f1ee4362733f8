"""Login attempts per address and per account. Every attempt counts for its address; failed
ones count for the account, so that a password guessed from many addresses is stopped too,
and one address's mistakes lock out no other visitor behind the same proxy."""

from __future__ import annotations

import hashlib

from flask import request

from webapp.rate_limits import hit, within


def login_attempt_allowed() -> bool:
    """Count one attempt from this address; False once over LOGIN_RATE_LIMIT."""
    return hit("LOGIN_RATE_LIMIT", "login", request.remote_addr or "unknown")


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def account_locked(email: str) -> bool:
    """Whether this account had LOGIN_ACCOUNT_RATE_LIMIT failed logins in the window."""
    return not within("LOGIN_ACCOUNT_RATE_LIMIT", "login-account", _account(email))


def count_failure(email: str) -> None:
    hit("LOGIN_ACCOUNT_RATE_LIMIT", "login-account", _account(email))
