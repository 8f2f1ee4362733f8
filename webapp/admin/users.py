"""Accounts, as administrators manage them."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from webapp.auth.models import User
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.timeline.record import record


def _not_yourself(user: User, by: User, refusal: str) -> None:
    # An administrator who locks themselves out may leave nobody able to let them back in.
    if user.id == by.id:
        raise UserError(_(refusal))


def set_active(user: User, active: bool, by: User) -> None:
    _not_yourself(user, by, N_("You cannot deactivate your own account."))
    user.active = active
    record("admin.user", user, actor=by, details={"active": active})
    db.session.commit()


def set_admin(user: User, admin: bool, by: User) -> None:
    _not_yourself(user, by, N_("You cannot change the rights of your own account."))
    user.is_admin = admin
    record("admin.user", user, actor=by, details={"admin": admin})
    db.session.commit()


def set_quotas(user: User, page_quota: int | None, storage_quota_mb: int | None, by: User) -> None:
    user.page_quota = page_quota
    user.storage_quota_mb = storage_quota_mb
    record(
        "admin.user",
        user,
        actor=by,
        details={"page_quota": page_quota, "storage_quota_mb": storage_quota_mb},
    )
    db.session.commit()


def reset_password(user: User) -> str:
    """A new password for the user, shown once to the administrator who hands it over."""
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    record("admin.password_reset", user)
    db.session.commit()
    return password
