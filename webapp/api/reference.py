"""The API's interactive reference: Swagger UI (vendored) on the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from webapp.security import content_security_policy

bp = Blueprint("api_reference", __name__)


@bp.get("/api/v1/")
def reference() -> Response:
    response = Response(
        render_template(
            "api/reference.html", spec_url=url_for("api-docs.openapi_json", _external=True)
        )
    )
    # Swagger UI inserts its own style elements.
    response.headers["Content-Security-Policy"] = content_security_policy(
        style_src="'self' 'unsafe-inline'"
    )
    return response
