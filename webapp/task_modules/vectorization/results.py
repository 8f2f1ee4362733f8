"""Vectorizations as people look at them: each SVG over its crop; and as a zip of SVGs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.catalog.names import page_names
from webapp.exports import zip_download
from webapp.extensions import db
from webapp.pagination import paginate
from webapp.task_modules.vectorization.models import Vectorization
from webapp.treatments.models import Treatment

PER_VIEW = 24
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
bp = Blueprint("vectorization", __name__, url_prefix="/vectorizations")


def viewer_context(treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
    items = paginate(
        select(Vectorization)
        .where(Vectorization.treatment_id.in_(treatment.result_ids))
        .order_by(Vectorization.crop_id),
        PER_VIEW,
    )
    sizes = {}
    for item in items.items:
        box = item.crop_id.rsplit("_", 1)[-1].split(",")
        sizes[item.id] = (
            (box[2], box[3]) if len(box) == 4 and all(b.isdigit() for b in box) else None
        )
    return {"items": items, "sizes": sizes, "names": page_names(v.crop_id for v in items.items)}


def svg_files(treatment: Treatment) -> Iterator[tuple[str, str]]:
    """Each SVG of the treatment, named by its crop."""
    items = db.session.scalars(
        select(Vectorization).where(Vectorization.treatment_id.in_(treatment.result_ids))
    )
    return ((f"{v.crop_id}.svg", v.svg) for v in items)


def svgs_zip(treatment: Treatment) -> Response:
    return zip_download(f"vectorization-{treatment.id}.zip", svg_files(treatment))


@bp.get("/<int:vectorization_id>.svg")
def svg(vectorization_id: int) -> Response:
    """An SVG as the API sent it: shown as an image, in a sandbox, never as a page of ours."""
    item = db.get_or_404(Vectorization, vectorization_id)
    treatment = db.session.get(Treatment, item.treatment_id)
    if treatment is None or not treatment.visible_to(current_user):
        abort(404)
    return Response(
        item.svg,
        mimetype="image/svg+xml",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        },
    )
