"""Default-deny access: every view needs a session unless marked public."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from webapp.extensions import login_manager
from webapp.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])

POLICY_DIRECTIVES = {
    "default-src": "'self'",
    "img-src": "'self' data: blob:",
    "style-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**changed: str) -> str:
    """The app's policy, with some directives changed (`style_src="…"` for style-src)."""
    directives = POLICY_DIRECTIVES | {name.replace("_", "-"): v for name, v in changed.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CONTENT_SECURITY_POLICY = content_security_policy()


def public(config_flag: str | None = None) -> Callable[[F], F]:
    """Mark a view as reachable without a session, optionally only while a setting is on."""

    def mark(view: F) -> F:
        view.public_when = config_flag or True  # type: ignore[attr-defined]
        return view

    return mark


def _is_public(endpoint: str | None) -> bool:
    if endpoint is None or endpoint == "static":
        return True
    view = current_app.view_functions.get(endpoint)
    flag = getattr(view, "public_when", None)
    if flag is True:
        return True
    return isinstance(flag, str) and bool(current_app.config.get(flag))


class DatabaseInteger(IntegerConverter):
    """`<int:…>` in every route: a number past the database's integers is a 400 saying so,
    instead of an overflow in the query."""

    LARGEST = 2**31 - 1

    def to_python(self, value: str) -> Any:
        if len(value) > 10 or int(value) > self.LARGEST:
            raise BadRequest(f"{value[:20]} is larger than any id ({self.LARGEST}).")
        return super().to_python(value)


def refuse_oversized() -> Any:
    """A body that says it is over the limit is refused unread, rather than read up to the
    limit (and its files half written) first."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    return None


def refuse_nul() -> Any:
    """A NUL character in a query or a form field is no text anyone typed, and the database
    refuses to store or compare it: 400 before any view sees it."""
    values = [*request.args.values(), *request.args.keys()]
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        values += [*request.form.values(), *request.form.keys()]
    if any("\x00" in value for value in values) or "\x00" in request.path:
        abort(400, _("A NUL character is not allowed in a request."))
    return None


def require_login() -> Any:
    from webapp.api import is_api_request

    # The API answers for itself: a token or a session, else 401 (webapp.api.auth); a token's
    # request loads no session user first.
    if is_api_request(request.path) or _is_public(request.endpoint):
        return None
    if current_user.is_authenticated:
        return None
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        abort(401)
    return login_manager.unauthorized()


def set_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["APP_URL"].startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to continue.")
    login_manager.localize_callback = _
    login_manager.login_message_category = "info"
    # First of all, before anything (the CSRF check) starts reading the body.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized)
    app.before_request(refuse_nul)
    app.before_request(require_login)
    app.after_request(set_security_headers)
