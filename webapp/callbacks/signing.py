"""Each user's callback signing secret (Standard Webhooks' `whsec_…`): their receivers
verify with it that a callback comes from this app and was not changed on the way."""

from __future__ import annotations

import base64
import secrets

from webapp.auth.models import User


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_of(user: User) -> str:
    """The user's secret, made the first time it is needed (the caller commits)."""
    if not user.webhook_secret:
        user.webhook_secret = new_secret()
    return user.webhook_secret
