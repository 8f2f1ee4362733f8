"""Mirador, the IIIF viewer most IIIF projects use, on our own manifests: deep zoom over every
page, and the regions of a result drawn as annotations."""

from __future__ import annotations

from flask import Response, render_template, request, url_for

from webapp.catalog.lookup import digitization_or_404
from webapp.catalog.models import Digitization
from webapp.catalog.names import document_name
from webapp.i18n import N_
from webapp.iiif import bp
from webapp.iiif.manifests import canvas_id
from webapp.security import content_security_policy


def mirador_page(
    digitization: Digitization, manifest_url: str, back_url: str, heading: str, annotations: bool
) -> Response:
    """The viewer on one manifest, opened at the page `?page=N` asks for (1 by default).

    Mirador inserts its own style elements: this page alone allows inline styles.
    """
    pages = digitization.pages
    order = request.args.get("page", 1, type=int) or 1
    start = next((page for page in pages if page.order == order), pages[0] if pages else None)
    response = Response(
        render_template(
            "iiif/mirador.html",
            heading=heading,
            name=document_name(digitization),
            manifest_url=manifest_url,
            canvas_id=canvas_id(start) if start else "",
            back_url=back_url,
            annotations=annotations,
        )
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        style_src="'self' 'unsafe-inline'"
    )
    return response


@bp.get("/<ref>/viewer")
def viewer(ref: str) -> Response:
    digitization = digitization_or_404(ref)
    return mirador_page(
        digitization,
        url_for("iiif.manifest_v3", ref=ref, _external=True),
        url_for("catalog.digitization", digitization_id=digitization.id),
        N_("Pages"),
        annotations=False,
    )
