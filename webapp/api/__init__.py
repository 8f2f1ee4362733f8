"""The JSON API for integrators, `/api/v1`: marshmallow schemas validate what comes in and
describe what goes out, and flask-smorest derives the OpenAPI document from them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from webapp.api.messages import speak_the_readers_language

# Before any schema is made: each field keeps the messages it was made with.
speak_the_readers_language()

from webapp.api.schemas import ErrorSchema  # noqa: E402

PREFIX = "/api/v1"


class ScriptoriumApi(Api):
    """Errors are answered by the app's one handler (`webapp.errors`), in one JSON shape for
    the whole API; this documents that shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """The app's handler stays in place."""


api = ScriptoriumApi()


def is_api_request(path: str) -> bool:
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def init_api(app: Flask) -> None:
    from webapp.api import (
        callbacks,
        catalog,
        document_sets,
        flows,
        reference,
        tasks,
        timeline,
        treatments,
        workflows,
    )
    from webapp.extensions import csrf

    app.config.setdefault("API_TITLE", "Scriptorium")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    spec: dict[str, Any] = {
        "servers": [{"url": "/"}],
        "info": {
            "description": "Launch and follow treatments on document sets and background tasks; "
            "read the catalogue."
        },
    }
    api.init_app(app, spec_kwargs=spec)
    api.spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "A personal API token"}
    )
    blueprints = (
        catalog.bp,
        document_sets.bp,
        treatments.bp,
        tasks.bp,
        workflows.bp,
        flows.bp,
        timeline.bp,
        callbacks.bp,
    )
    for blueprint in blueprints:
        # A token is not a session: its requests carry no CSRF token; the API's own check
        # asks one of requests that come with a session (webapp.api.auth).
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(reference.bp)
