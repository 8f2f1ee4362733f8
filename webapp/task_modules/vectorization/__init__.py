"""Vectorization: the strokes of each region as SVG."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any, ClassVar

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from webapp.bulk import newer, put_rows
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_, _l
from webapp.processing_api import model_choices
from webapp.task_modules.base import Stored, TaskModule
from webapp.task_modules.regions_source import RegionsSourceForm, RegionsSourceModule
from webapp.task_modules.vectorization.models import Vectorization
from webapp.task_modules.vectorization.results import bp, svg_files, svgs_zip, viewer_context
from webapp.treatments.models import Treatment
from webapp.urls import external_url

FALLBACK_MODELS = {"strokes": "Strokes, lines and circles"}
MAX_FILES = 5_000
MAX_SVG_BYTES = 5_000_000
MAX_TOTAL_BYTES = 200_000_000


class VectorizationForm(RegionsSourceForm):
    model = SelectField(_l("Model"), choices=FALLBACK_MODELS)

    def set_choices(self, module: TaskModule, user: Any, document_set: DocumentSet | None) -> None:
        super().set_choices(module, user, document_set)
        self.model.choices = model_choices(module, FALLBACK_MODELS)


def read_svgs(content: bytes, doc_uid: str) -> dict[str, str]:
    """`{crop id: svg}` from a zip, ignoring what is not an SVG; refuses zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise UserError(
            _("The vectorization result for %(doc_uid)s is not a zip file.", doc_uid=doc_uid)
        ) from exc
    members = [
        m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(".svg")
    ]
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
        raise UserError(
            _("The vectorization result for %(doc_uid)s is too large.", doc_uid=doc_uid)
        )
    svgs: dict[str, str] = {}
    for member in members:
        if member.file_size > MAX_SVG_BYTES:
            raise UserError(
                _(
                    "%(filename)s in the result for %(doc_uid)s is too large.",
                    filename=member.filename,
                    doc_uid=doc_uid,
                )
            )
        try:
            text = archive.read(member).decode("utf-8")
        except (UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            raise UserError(
                _(
                    "%(filename)s in the result for %(doc_uid)s is unreadable.",
                    filename=member.filename,
                    doc_uid=doc_uid,
                )
            ) from exc
        if "<svg" not in text[:2000]:
            raise UserError(
                _(
                    "%(filename)s in the result for %(doc_uid)s is not an SVG.",
                    filename=member.filename,
                    doc_uid=doc_uid,
                )
            )
        svgs[PurePosixPath(member.filename).stem[:300]] = text
    return svgs


class VectorizationModule(RegionsSourceModule):
    name = "vectorization"
    label = N_("Vectorization")
    description = N_("Turn each region into an SVG of its strokes.")
    default_route = "vectorization"
    defaults: ClassVar[dict[str, Any]] = {"model": "strokes"}
    result_model = Vectorization
    result_name = "vectorizations"
    form_class = VectorizationForm
    results_template = "task_modules/vectorization_summary.html"
    viewer_template = "task_modules/vectorization_viewer.html"
    exports: ClassVar[dict[str, str]] = {"zip": N_("SVGs as a zip")}
    blueprint = bp

    def viewer(self, treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
        return viewer_context(treatment, args)

    def export(self, treatment: Treatment, kind: str) -> Response:
        return svgs_zip(treatment)

    def archive(self, treatment: Treatment) -> Iterator[tuple[str, bytes]]:
        """Each SVG as a file of its own, named by its crop."""
        for name, svg in svg_files(treatment):
            yield f"svg/{name}", svg.encode()

    def result_rows(
        self, treatment: Treatment, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Each vectorized crop, with its SVG's address."""
        where = Vectorization.treatment_id.in_(treatment.result_ids)
        items = db.session.scalars(
            select(Vectorization)
            .where(where)
            .order_by(Vectorization.crop_id)
            .offset(offset)
            .limit(limit)
        )
        total = db.session.scalar(select(func.count()).select_from(Vectorization).where(where))
        return [
            {
                "crop_id": item.crop_id,
                "svg_url": external_url("vectorization.svg", vectorization_id=item.id),
            }
            for item in items
        ], total or 0

    def process_results(self, treatment: Treatment, doc_uid: str, content: bytes) -> Stored:
        svgs = read_svgs(content, doc_uid)
        put_rows(
            Vectorization,
            [
                {"treatment_id": treatment.id, "crop_id": crop_id, "svg": svg}
                for crop_id, svg in svgs.items()
            ],
            key=("treatment_id", "crop_id"),
            merge={"svg": newer},
        )
        return Stored(len(svgs))


MODULE = VectorizationModule()
