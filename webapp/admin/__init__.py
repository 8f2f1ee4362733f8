"""The administrators' area: every treatment, user and set, the queues and workers. Anyone who
is not an administrator gets a 404: the area does not exist for them."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(404)


import webapp.admin.operations  # noqa: E402
import webapp.admin.routes  # noqa: E402, F401
