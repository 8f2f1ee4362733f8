"""`/api/v1/works`, `/series`, `/witnesses`, `/digitizations`: the shared catalogue, read
only, searched as the catalogue's pages search it (a ref finds its witness)."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.api.blueprint import ApiBlueprint
from webapp.api.schemas import TOKEN, PageArgs, page_json, page_schema
from webapp.catalog.lookup import matching
from webapp.catalog.models import Digitization, Series, Witness, Work
from webapp.extensions import db

bp = ApiBlueprint(
    "api_catalog",
    __name__,
    url_prefix="/api/v1",
    description="The catalogue: works, series, witnesses and their digitizations.",
)


class SearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))


class EntrySchema(Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)


class DigitizationSchema(Schema):
    id = fields.Integer(required=True)
    ref = fields.String(required=True)
    label = fields.String(required=True)
    status = fields.String(required=True)
    pages = fields.Integer(required=True)
    manifest = fields.Url(required=True, metadata={"description": "IIIF Presentation 2.1"})
    manifest_v3 = fields.Url(required=True, metadata={"description": "IIIF Presentation 3.0"})
    imported_from = fields.String(allow_none=True)


class WitnessSchema(Schema):
    id = fields.Integer(required=True)
    ref = fields.String(required=True)
    siglum = fields.String(required=True)
    kind = fields.String(required=True)
    place = fields.String(required=True)
    date = fields.String(required=True)
    series = fields.Nested(EntrySchema, allow_none=True)
    works = fields.List(fields.Nested(EntrySchema), required=True)
    digitizations = fields.List(fields.Nested(DigitizationSchema), required=True)


def digitization_json(digitization: Digitization) -> dict[str, Any]:
    return {
        "id": digitization.id,
        "ref": digitization.ref,
        "label": digitization.display_label,
        "status": digitization.status,
        "pages": len(digitization.pages),
        "manifest": url_for("iiif.manifest", ref=digitization.ref, _external=True),
        "manifest_v3": url_for("iiif.manifest_v3", ref=digitization.ref, _external=True),
        "imported_from": digitization.manifest_url,
    }


def witness_json(witness: Witness) -> dict[str, Any]:
    series = witness.series
    return {
        "id": witness.id,
        "ref": witness.ref,
        "siglum": witness.siglum,
        "kind": witness.kind,
        "place": witness.place,
        "date": witness.date,
        "series": {"id": series.id, "label": series.label} if series else None,
        "works": [{"id": w.id, "label": w.label} for w in witness.works],
        "digitizations": [digitization_json(d) for d in witness.digitizations],
    }


@bp.get("/witnesses")
@bp.arguments(SearchArgs, location="query")
@bp.response(200, page_schema(WitnessSchema))
@bp.doc(security=TOKEN)
def witnesses(args: dict[str, Any]) -> dict[str, Any]:
    """Witnesses by siglum, searched by siglum, place, date or any ref of their documents."""
    stmt = (
        select(Witness)
        .order_by(Witness.siglum, Witness.id)
        .options(
            selectinload(Witness.series),
            selectinload(Witness.works),
            selectinload(Witness.digitizations).selectinload(Digitization.pages),
        )
    )
    if args["q"].strip():
        stmt = stmt.where(
            matching(Witness, (Witness.siglum, Witness.place, Witness.date), args["q"].strip())
        )
    page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    return page_json([witness_json(w) for w in page.items], page)


@bp.get("/witnesses/<int:witness_id>")
@bp.response(200, WitnessSchema)
@bp.doc(security=TOKEN)
def witness(witness_id: int) -> dict[str, Any]:
    found = db.session.get(Witness, witness_id)
    if found is None:
        abort(404, _("No such witness."))
    return witness_json(found)


@bp.get("/digitizations/<int:digitization_id>")
@bp.response(200, DigitizationSchema)
@bp.doc(security=TOKEN)
def digitization(digitization_id: int) -> dict[str, Any]:
    found = db.session.get(Digitization, digitization_id)
    if found is None:
        abort(404, _("No such digitization."))
    return digitization_json(found)


def _entries(model: Any, searched: tuple[Any, ...], args: dict[str, Any]) -> dict[str, Any]:
    stmt = select(model).order_by(searched[0], model.id)
    if args["q"].strip():
        stmt = stmt.where(matching(model, searched, args["q"].strip()))
    page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    return page_json([{"id": e.id, "label": e.label} for e in page.items], page)


@bp.get("/works")
@bp.arguments(SearchArgs, location="query")
@bp.response(200, page_schema(EntrySchema))
@bp.doc(security=TOKEN)
def works(args: dict[str, Any]) -> dict[str, Any]:
    """Works by title, searched by title or author."""
    return _entries(Work, (Work.title, Work.author), args)


@bp.get("/series")
@bp.arguments(SearchArgs, location="query")
@bp.response(200, page_schema(EntrySchema))
@bp.doc(security=TOKEN)
def series(args: dict[str, Any]) -> dict[str, Any]:
    """Series by title."""
    return _entries(Series, (Series.title,), args)
