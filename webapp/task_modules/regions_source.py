"""For modules that run on the regions of an earlier regions treatment (DESIGN 5)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectField, ValidationError

from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import _l
from webapp.lifecycle import Status
from webapp.task_modules.base import ParametersForm, TaskModule
from webapp.task_modules.regions.corrections import corrected_regions
from webapp.task_modules.regions.keys import crop_list_key
from webapp.task_modules.regions.models import RegionSet
from webapp.treatments.models import Treatment
from webapp.urls import external_url


class RunField(SelectField):
    def pre_validate(self, form: Any) -> None:
        if self.data not in cast(dict[str, str], self.choices):
            raise ValidationError(_("Choose one of the regions runs of this document set."))


class RegionsSourceForm(ParametersForm):
    regions_treatment = RunField(
        _l("Run on the regions found by"),
        choices={},
        description=_l("A successful region extraction on the same document set, newest first."),
    )

    def set_choices(self, module: TaskModule, user: Any, document_set: DocumentSet | None) -> None:
        """Exactly the runs a launch on the set accepts: every successful regions run on it,
        the user's own and, on a set shared with them, the others' (their results are as
        visible as the set)."""
        runs: list[Treatment] = []
        if document_set is not None:
            runs = list(
                db.session.scalars(
                    select(Treatment)
                    .where(
                        Treatment.task_type == "regions",
                        Treatment.status == Status.SUCCESS,
                        Treatment.document_set_id == document_set.id,
                    )
                    .order_by(Treatment.finished_at.desc(), Treatment.requested_at.desc())
                )
            )
        self.regions_treatment.choices = {t.id: _run_label(t, user) for t in runs}
        if document_set is not None and not self.regions_treatment.choices:
            self.regions_treatment.description = _(
                "No region extraction has succeeded on “%(title)s” yet: run Regions on it first.",
                title=document_set.title,
            )


def _run_label(run: Treatment, user: Any) -> str:
    ended = f"{run.finished_at:%Y-%m-%d %H:%M}" if run.finished_at else "—"
    if run.owner_id == user.id:
        return str(_("Regions of %(ended)s (%(id)s)", ended=ended, id=run.id[:8]))
    return str(
        _(
            "Regions of %(ended)s, by %(name)s (%(id)s)",
            ended=ended,
            name=run.owner.display_name,
            id=run.id[:8],
        )
    )


class RegionsSourceModule(TaskModule):
    """A module whose documents are the region sets of an earlier regions treatment."""

    inputs: ClassVar[dict[str, str]] = {"regions_treatment": "regions"}

    def documents(
        self, document_set: DocumentSet, parameters: dict[str, Any]
    ) -> list[dict[str, str]]:
        return region_documents(document_set, parameters)

    def stored_input_documents(self, source: Treatment) -> list[dict[str, str]]:
        return stored_region_documents(source)

    def api_documents(self, documents: list[dict[str, str]]) -> list[dict[str, str]]:
        """The crop lists with a key the API may read them by, issued at each launch (and so
        at each relaunch) for as long as a run may last."""
        return [{**d, "src": f"{d['src']}?key={crop_list_key(d['uid'])}"} for d in documents]


def region_documents(document_set: DocumentSet, parameters: dict[str, Any]) -> list[dict[str, str]]:
    """Each region set of the chosen regions treatment that holds regions once corrected, as
    a `url_list` of its crops."""
    source = db.session.get(Treatment, str(parameters.get("regions_treatment", "")))
    if source is None or source.task_type != "regions":
        raise UserError(_("Choose a regions treatment to run on."))
    if source.status != Status.SUCCESS:
        raise UserError(_("The chosen regions treatment has not succeeded."))
    if source.document_set_id != document_set.id:
        raise UserError(_("The chosen regions treatment ran on another document set."))
    documents = stored_region_documents(source)
    if not documents:
        raise UserError(_("The chosen regions treatment found no regions."))
    return documents


def stored_region_documents(source: Treatment) -> list[dict[str, str]]:
    """Each region set a regions treatment has stored so far that holds regions once
    corrected, as a `url_list` of its crops (a running one's too: a workflow's later steps
    start on each document's regions as soon as they are stored)."""
    region_sets = list(
        db.session.scalars(
            select(RegionSet)
            .where(RegionSet.treatment_id.in_(source.result_ids))
            .order_by(RegionSet.id)
        )
    )
    holding = {box.region_set.id for box in corrected_regions(region_sets)}
    return [
        {"type": "url_list", "src": external_url("regions.crop_list", ref=rs.ref), "uid": rs.ref}
        for rs in region_sets
        if rs.id in holding
    ]
