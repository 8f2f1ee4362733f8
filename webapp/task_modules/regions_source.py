"""For modules that run on the regions of an earlier regions treatment (DESIGN 5)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from wtforms import SelectField

from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.task_modules.base import ParametersForm, TaskModule
from webapp.task_modules.regions.keys import crop_list_key
from webapp.task_modules.regions.models import RegionSet
from webapp.treatments.models import Treatment
from webapp.urls import external_url


class RegionsSourceForm(ParametersForm):
    regions_treatment = SelectField(
        "Run on the regions found by",
        choices={},
        description="A successful region extraction on the same document set.",
    )

    def set_choices(self, module: TaskModule, user: Any) -> None:
        stmt = (
            select(Treatment)
            .where(Treatment.task_type == "regions", Treatment.status == Status.SUCCESS)
            .order_by(Treatment.finished_at.desc())
        )
        if not user.is_admin:
            stmt = stmt.where(Treatment.owner_id == user.id)
        self.regions_treatment.choices = {
            t.id: f"Regions on “{t.document_set_title}”, {t.finished_at:%Y-%m-%d %H:%M}"
            if t.finished_at
            else t.id
            for t in db.session.scalars(stmt)
        }


class RegionsSourceModule(TaskModule):
    """A module whose documents are the region sets of an earlier regions treatment."""

    def documents(
        self, document_set: DocumentSet, parameters: dict[str, Any]
    ) -> list[dict[str, str]]:
        return region_documents(document_set, parameters)

    def api_documents(self, documents: list[dict[str, str]]) -> list[dict[str, str]]:
        """The crop lists with a key the API may read them by, issued at each launch (and so
        at each relaunch) for as long as a run may last."""
        return [{**d, "src": f"{d['src']}?key={crop_list_key(d['uid'])}"} for d in documents]


def region_documents(document_set: DocumentSet, parameters: dict[str, Any]) -> list[dict[str, str]]:
    """Each region set of the chosen regions treatment, as a `url_list` of its crops."""
    source = db.session.get(Treatment, str(parameters.get("regions_treatment", "")))
    if source is None or source.task_type != "regions":
        raise UserError("Choose a regions treatment to run on.")
    if source.status != Status.SUCCESS:
        raise UserError("The chosen regions treatment has not succeeded.")
    if source.document_set_id != document_set.id:
        raise UserError("The chosen regions treatment ran on another document set.")
    region_sets = db.session.scalars(
        select(RegionSet).where(RegionSet.treatment_id == source.id).order_by(RegionSet.id)
    )
    documents = [
        {"type": "url_list", "src": external_url("regions.crop_list", ref=rs.ref), "uid": rs.ref}
        for rs in region_sets
        if rs.regions
    ]
    if not documents:
        raise UserError("The chosen regions treatment found no regions.")
    return documents
