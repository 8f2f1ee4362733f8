"""Each user's callback signing secret (Standard Webhooks' `whsec_…`): their receivers
verify with it that a callback comes from this app and was not changed on the way."""

from __future__ import annotations

import base64
import secrets

from webapp.auth.models import User
from webapp.extensions import db
from webapp.timeline.record import record


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def renew_secret(user: User) -> str:
    """A new secret: callbacks are signed with it from now on, the old one is void."""
    user.webhook_secret = new_secret()
    record("account.webhook_secret", user, actor=user)
    db.session.commit()
    return user.webhook_secret


def secret_of(user: User) -> str:
    """The user's secret, made the first time it is needed (the caller commits)."""
    if not user.webhook_secret:
        user.webhook_secret = new_secret()
    return user.webhook_secret
