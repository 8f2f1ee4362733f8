"""Errors answered as a page for people and as JSON for programs."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)


class UserError(Exception):
    """A failure whose message a user can read and act on."""


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json" or request.path.startswith("/iiif/")


def render_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if _wants_json():
        return jsonify(error=error.name, message=error.description), code
    return render_template("error.html", error=error), code


def _database_down(error: OperationalError) -> ResponseReturnValue:
    log.exception("database unavailable")
    return render_error(ServiceUnavailable("The database is unavailable; please retry shortly."))


def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(
        InternalServerError("Something went wrong on our side; it has been logged.")
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)
