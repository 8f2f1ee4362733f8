"""Who calls the API: a personal token (`Authorization: Bearer …`), or the browser's session
for the app's own pages (which then must carry their CSRF token on writes). Anyone else gets
401; a token is rate-limited on its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, bindparam, select, update
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from webapp.auth.models import ApiToken, User, token_digest
from webapp.columns import utcnow
from webapp.extensions import csrf, db
from webapp.rate_limits import hit

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# How stale a token's "last used" may be: one write a minute at most, not one per request.
LAST_USED_STEP = timedelta(minutes=1)


def _refused(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("Bearer"))


@cache
def _token_query() -> Select[User, int, datetime | None]:
    """A token's user, with what the check needs of the token itself; built once: every API
    call asks it, and building it, or loading the token as an object too, cost as much as
    running it."""
    return (
        select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == bindparam("digest"))
    )


def authenticate() -> None:
    """Run before every API view."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() == "bearer":
        found = db.session.execute(_token_query(), {"digest": token_digest(token.strip())}).first()
        if found is None:
            raise _refused(_("This token is unknown or has been revoked."))
        user, token_id, last_used_at = found
        if not user.is_active:
            raise _refused(_("This token is unknown or has been revoked."))
        if not hit("API_TOKEN_RATE_LIMIT", "api-token", str(token_id)):
            abort(429, _("Too many requests with this token; slow down and retry shortly."))
        now = utcnow()
        if last_used_at is None or now - last_used_at > LAST_USED_STEP:
            db.session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
            db.session.commit()
        # Flask-Login's user for this request only: a token opens no session.
        g._login_user = user
        return
    if current_user.is_authenticated:
        # As the pages' forms: the app's pages send it in the X-CSRFToken header.
        if request.method not in SAFE_METHODS and current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()
        return
    raise _refused(_("Send a personal API token: Authorization: Bearer <token>."))


def forget(_error: BaseException | None = None) -> None:
    """Run after every API request: the token's user is this request's alone, even where a
    context outlives a request (a test's, a streamed response's)."""
    g.pop("_login_user", None)
