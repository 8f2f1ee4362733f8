"""Errors answered as a page for people and as JSON for programs."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)


class UserError(Exception):
    """A failure whose message a user can read and act on."""


class QuotaExceeded(UserError):
    """Work or files refused because they would pass their user's quota."""


def _wants_json() -> bool:
    from webapp.api import is_api_request

    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        request.is_json
        or best == "application/json"
        or request.path.startswith("/iiif/")
        or is_api_request(request.path)
    )


def _field_messages(error: HTTPException) -> dict[str, list[str]]:
    """A message per bad field, by field (`a.b` inside objects), from the API's validation:
    webargs' messages by location, or the errors a view gave."""
    data = getattr(error, "data", None) or {}
    given = data.get("errors") or {}
    for by_field in (data.get("messages") or {}).values():
        given = {**given, **by_field} if isinstance(by_field, dict) else given
    found: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            messages = value if isinstance(value, list) else [value]
            found[prefix or "request"] = [str(m) for m in messages if not isinstance(m, dict)]
            for inner in messages:
                if isinstance(inner, dict):
                    walk(prefix, inner)

    walk("", given)
    return found


def render_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if _wants_json():
        body: dict[str, Any] = {"error": error.name, "message": error.description}
        data = getattr(error, "data", None) or {}
        if data.get("message"):
            body["message"] = data["message"]
        if fields := _field_messages(error):
            body["fields"] = fields
            if not data.get("message"):
                body["message"] = _("Some fields are not valid.")
        response = jsonify(body)
        response.status_code = code
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    return render_template("error.html", error=error), code


def _database_down(error: OperationalError) -> ResponseReturnValue:
    log.exception("database unavailable")
    return render_error(ServiceUnavailable(_("The database is unavailable; please retry shortly.")))


def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(
        InternalServerError(_("Something went wrong on our side; it has been logged."))
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)
