"""Who calls the API: a personal token (`Authorization: Bearer …`), or the browser's session
for the app's own pages (which then must carry their CSRF token on writes). Anyone else gets
401; a token is rate-limited on its own."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from webapp.auth.models import ApiToken, token_digest
from webapp.columns import utcnow
from webapp.extensions import csrf, db
from webapp.rate_limits import hit

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# How stale a token's "last used" may be: one write a minute at most, not one per request.
LAST_USED_STEP = timedelta(minutes=1)


def _refused(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("Bearer"))


@cache
def _token_query() -> Select[ApiToken]:
    """A token with its user, built once: every API call asks it, and building the query cost
    as much as running it."""
    return (
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.digest == bindparam("digest"))
    )


def authenticate() -> None:
    """Run before every API view."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() == "bearer":
        digest = token_digest(token.strip())
        row = db.session.scalar(_token_query(), {"digest": digest})
        if row is None or not row.user.is_active:
            raise _refused(_("This token is unknown or has been revoked."))
        if not hit("API_TOKEN_RATE_LIMIT", "api-token", str(row.id)):
            abort(429, _("Too many requests with this token; slow down and retry shortly."))
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_STEP:
            row.last_used_at = now
            db.session.commit()
        # Flask-Login's user for this request only: a token opens no session.
        g._login_user = row.user
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
