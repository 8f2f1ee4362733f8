"""Region extraction: find illustrations and diagrams on the pages of digitizations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from webapp.bulk import put_rows
from webapp.capabilities import holds
from webapp.catalog.lookup import ref_matches
from webapp.catalog.models import Digitization
from webapp.catalog.refs import parse_ref
from webapp.columns import get_or_create
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_, _l
from webapp.processing_api import model_choices
from webapp.security import public
from webapp.task_modules.base import ParametersForm, Stored, TaskModule
from webapp.task_modules.regions.corrections import (
    Box,
    corrected_regions,
    treatment_region_sets,
)
from webapp.task_modules.regions.keys import ANNOTATIONS, CROP_LIST
from webapp.task_modules.regions.models import Region, RegionSet
from webapp.task_modules.regions.parsing import parse_regions
from webapp.task_modules.regions.results import regions_csv, viewer_context
from webapp.treatments.models import Treatment

FALLBACK_MODELS = {"illustration_extraction": "Illustrations and diagrams (default)"}

bp = Blueprint("regions", __name__, url_prefix="/regions")


class RegionsForm(ParametersForm):
    model = SelectField(_l("Model"), choices=FALLBACK_MODELS)

    def set_choices(self, module: TaskModule, user: Any, document_set: DocumentSet | None) -> None:
        self.model.choices = model_choices(module, FALLBACK_MODELS)


def readable_annotations(ref: str) -> RegionSet:
    """The region set, if its annotations may be read here: its set is public, the session's
    user may see the set, or the request carries a share key; 404 otherwise, like a ref that
    does not exist."""
    region_set = region_set_or_404(ref)
    treatment = db.get_or_404(Treatment, region_set.treatment_id)
    document_set = treatment.document_set
    user = current_user if current_user.is_authenticated else None
    if document_set is not None:
        readable = document_set.visibility == "public" or (
            user is not None and document_set.visible_to(user)
        )
    else:
        readable = user is not None and treatment.visible_to(user)
    max_age = current_app.config["SHARE_LINK_DAYS"] * 86400
    if not (readable or holds(ANNOTATIONS, ref, request.args.get("share"), max_age)):
        abort(404)
    return region_set


def region_set_or_404(ref: str) -> RegionSet:
    parsed = parse_ref(ref)
    if parsed is None or parsed.anno_id is None:
        abort(404)
    region_set = db.get_or_404(RegionSet, parsed.anno_id)
    digitization = region_set.digitization
    if digitization.id != parsed.digitization_id or not ref_matches(digitization, parsed):
        abort(404)
    return region_set


@bp.get("/<ref>/list")
@public("IIIF_PUBLIC")
def crop_list(ref: str) -> ResponseReturnValue:
    """`{"<crop id>": "<image url>"}` for every region of a set as corrected: a `url_list`
    source, read by the processing API with the key it was given; 404 without it."""
    region_set = region_set_or_404(ref)
    max_age = current_app.config["MAX_RUN_HOURS"] * 3600
    if not holds(CROP_LIST, ref, request.args.get("key"), max_age):
        abort(404)
    return jsonify({box.crop_id: box.image_url for box in corrected_regions([region_set])})


class RegionsModule(TaskModule):
    name = "regions"
    label = N_("Region extraction")
    description = N_("Find illustrations and diagrams on every page.")
    default_route = "regions"
    defaults: ClassVar[dict[str, Any]] = {"model": "illustration_extraction"}
    form_class = RegionsForm
    results_template = "task_modules/regions_summary.html"
    viewer_template = "task_modules/regions_viewer.html"
    exports: ClassVar[dict[str, str]] = {"csv": N_("Regions as CSV")}
    blueprint = bp

    def viewer(self, treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
        return viewer_context(treatment, args)

    def export(self, treatment: Treatment, kind: str) -> Response:
        return regions_csv(treatment)

    def archive(self, treatment: Treatment) -> Iterator[tuple[str, bytes]]:
        """The CSV, and an IIIF annotation list per page that has regions."""
        from webapp.task_modules.regions.web_annotations import annotation_list_document

        yield from super().archive(treatment)
        pages: dict[tuple[str, int], list[Box]] = {}
        for box in corrected_regions(treatment_region_sets(treatment)):
            pages.setdefault((box.region_set.ref, box.page.id), []).append(box)
        for (ref, _page), boxes in pages.items():
            document = annotation_list_document(ref, boxes[0].page, boxes)
            yield f"annotations/{ref}/{boxes[0].page.order}.json", json.dumps(document).encode()

    def result_rows(
        self, treatment: Treatment, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The regions as corrected."""
        boxes = corrected_regions(treatment_region_sets(treatment))
        return [
            {
                "region_set": box.region_set.ref,
                "page": box.page.ref,
                "crop_id": box.crop_id,
                "box": {"x": box.x, "y": box.y, "w": box.w, "h": box.h},
                "label": box.label,
                "confidence": box.confidence,
                "correction": box.correction,
                "image_url": box.image_url,
            }
            for box in boxes[offset : offset + limit]
        ], len(boxes)

    def process_results(self, treatment: Treatment, doc_uid: str, content: bytes) -> Stored:
        parsed = parse_ref(doc_uid)
        digitization = (
            db.session.get(Digitization, parsed.digitization_id)
            if parsed and parsed.digitization_id
            else None
        )
        if parsed is None or digitization is None or not ref_matches(digitization, parsed):
            raise UserError(
                _(
                    "The regions result names an unknown document %(doc_uid)s.",
                    doc_uid=repr(doc_uid),
                )
            )
        found, unread = parse_regions(content, doc_uid)
        pages = {page.order: page for page in digitization.pages}
        region_set, _made = get_or_create(
            RegionSet, treatment_id=treatment.id, digitization_id=digitization.id
        )
        model = str(treatment.parameters.get("model", ""))[:100]
        rows = []
        for item in found:
            page = pages.get(item.order)
            if page is None:
                raise UserError(
                    _(
                        "The regions result names page %(order)s, which %(doc_uid)s does not have.",
                        order=item.order,
                        doc_uid=doc_uid,
                    )
                )
            x, y = min(max(item.x, 0), page.width - 1), min(max(item.y, 0), page.height - 1)
            rows.append(
                {
                    "region_set_id": region_set.id,
                    "page_id": page.id,
                    "x": x,
                    "y": y,
                    "w": min(item.w, page.width - x),
                    "h": min(item.h, page.height - y),
                    "confidence": item.confidence,
                    "label": item.label,
                    "model": model,
                }
            )
        put_rows(Region, rows, key=("region_set_id", "page_id", "x", "y", "w", "h"))
        return Stored(len(found), unread)

    def summary(self, treatment: Treatment) -> dict[str, int]:
        count = db.session.scalar(
            select(func.count(Region.id))
            .join(RegionSet)
            .where(RegionSet.treatment_id.in_(treatment.result_ids))
        )
        return {"regions": count or 0}


MODULE = RegionsModule()

from webapp.task_modules.regions import editing, web_annotations  # noqa: E402, F401
