"""`/api/v1/treatments`: launch a task on a document set, follow it, cancel, relaunch and
delete it, with the pages' rules for who may do what (`webapp.treatments.service`)."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.api.blueprint import ApiBlueprint
from webapp.api.callbacks import DeliverySchema, callback_url_field, deliveries_json, resent_json
from webapp.api.schemas import (
    TOKEN,
    PageArgs,
    acted,
    invalid,
    listing,
    over_quota,
    page_schema,
)
from webapp.document_sets.access import usable_set
from webapp.errors import QuotaExceeded, UserError
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.publish import latest_events
from webapp.security import DatabaseInteger
from webapp.task_modules.registry import task_modules
from webapp.treatments import service
from webapp.treatments.forms import ParameterErrors, checked_parameters
from webapp.treatments.models import Treatment
from webapp.treatments.routes import visible_or_404

bp = ApiBlueprint(
    "api_treatments",
    __name__,
    url_prefix="/api/v1/treatments",
    description="Treatments: one task run on one document set.",
)


class ProgressSchema(Schema):
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)
    unit = fields.String(required=True, metadata={"description": "documents or pairs"})
    text = fields.String(required=True, metadata={"example": "12 of 21 pairs"})
    fraction = fields.Float(required=True)


class TreatmentSchema(Schema):
    id = fields.String(required=True)
    task = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    status_label = fields.String(required=True)
    message = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    document_set = fields.Integer(allow_none=True)
    document_set_title = fields.String(required=True)
    owner = fields.String(required=True)
    parameters = fields.Dict(required=True)
    progress = fields.Nested(ProgressSchema, required=True)
    eta_seconds = fields.Float(allow_none=True)
    document_errors = fields.List(fields.String(), required=True)
    requested_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    relaunch_of = fields.String(allow_none=True)
    retry_of = fields.String(allow_none=True)
    failed_documents = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The documents a retry would run on, once it has ended"},
    )
    workflow = fields.String(allow_none=True)
    callback_url = fields.String(allow_none=True)
    page = fields.Url(required=True, metadata={"description": "The treatment's page"})


class ListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    task = fields.String()


class CreateSchema(Schema):
    document_set = fields.Integer(
        required=True, validate=validate.Range(1, DatabaseInteger.LARGEST)
    )
    task = fields.String(required=True)
    parameters = fields.Dict(keys=fields.String(), load_default=dict)
    notify_email = fields.Boolean(load_default=False)
    callback_url = callback_url_field()


class EventSchema(Schema):
    id = fields.Integer(required=True)
    event = fields.String(required=True)
    kind = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    outcome = fields.String(required=True)
    payload = fields.Dict(required=True)


def as_json(treatment: Treatment) -> dict[str, Any]:
    return {
        "id": treatment.id,
        "task": treatment.task_type,
        "status": treatment.status,
        "status_label": treatment.state.label,
        "message": treatment.message,
        "error": treatment.error,
        "document_set": treatment.document_set_id,
        "document_set_title": treatment.document_set_title,
        "owner": treatment.owner.email,
        "parameters": treatment.parameters,
        "progress": {
            "done": treatment.units_done,
            "total": treatment.units_total,
            "unit": treatment.unit,
            "text": treatment.progress_text,
            "fraction": treatment.fraction_done,
        },
        "eta_seconds": treatment.eta_seconds,
        "document_errors": treatment.document_errors,
        "requested_at": treatment.requested_at,
        "started_at": treatment.started_at,
        "finished_at": treatment.finished_at,
        "relaunch_of": treatment.relaunch_of_id,
        "retry_of": treatment.retry_of_id,
        "failed_documents": [d["uid"] for d in treatment.failed_documents],
        "workflow": treatment.workflow_id,
        "callback_url": treatment.callback_url,
        "page": url_for("treatments.detail", treatment_id=treatment.id, _external=True),
    }


@bp.get("/")
@bp.arguments(ListArgs, location="query")
@bp.response(200, page_schema(TreatmentSchema))
@bp.doc(security=TOKEN)
def list_treatments(args: dict[str, Any]) -> dict[str, Any]:
    """The treatments the token's user may see, newest first: their own (an admin's: all)."""
    stmt = (
        select(Treatment)
        .options(joinedload(Treatment.owner))
        .where(Treatment.part_of_id.is_(None))
        .order_by(Treatment.requested_at.desc(), Treatment.id)
    )
    if not current_user.is_admin:
        stmt = stmt.where(Treatment.owner_id == current_user.id)
    return listing(stmt, args, as_json, status=Treatment.status, task=Treatment.task_type)


@bp.post("/")
@bp.arguments(CreateSchema)
@bp.response(201, TreatmentSchema)
@bp.doc(security=TOKEN)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Queue a task on a document set the user may use, with the task's own parameters."""
    document_set = usable_set(current_user, str(body["document_set"]))
    if document_set is None:
        abort(404, _("No such document set, or not one you may use."))
    module = task_modules().get(body["task"])
    if module is None:
        invalid({"task": [f"Unknown task; one of {', '.join(task_modules())}."]})
    try:
        parameters = checked_parameters(module, current_user, document_set, body["parameters"])
    except ParameterErrors as exc:
        invalid({f"parameters.{name}": messages for name, messages in exc.fields.items()})
    try:
        treatment = service.create_treatment(
            current_user,
            document_set,
            module,
            parameters,
            body["notify_email"],
            callback_url=body["callback_url"],
        )
    except QuotaExceeded as exc:
        over_quota(exc)
    except UserError as exc:
        invalid({"parameters": [str(exc)]})
    return as_json(treatment)


@bp.get("/<treatment_id>")
@bp.response(200, TreatmentSchema)
@bp.doc(security=TOKEN)
def get(treatment_id: str) -> dict[str, Any]:
    """A treatment with its progress and ETA."""
    return as_json(visible_or_404(treatment_id))


@bp.get("/<treatment_id>/events")
@bp.response(200, EventSchema(many=True))
@bp.doc(security=TOKEN)
def events(treatment_id: str) -> list[Any]:
    """Its history, oldest first: the notifications received and the moves of its status."""
    return latest_events(visible_or_404(treatment_id))


class ResultsSchema(Schema):
    items = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "The task's results: regions, pairs or vectorized crops"},
    )
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    exports = fields.Dict(
        keys=fields.String(),
        values=fields.Url(),
        required=True,
        metadata={"description": "The files the results can be taken away as, by format"},
    )


@bp.get("/<treatment_id>/results")
@bp.arguments(PageArgs, location="query")
@bp.response(200, ResultsSchema)
@bp.doc(security=TOKEN)
def results(args: dict[str, Any], treatment_id: str) -> dict[str, Any]:
    """One page of its results, as its task stores them (regions as corrected)."""
    treatment = visible_or_404(treatment_id)
    module = task_modules().get(treatment.task_type)
    if module is None:
        abort(404, _("This treatment's task is no longer installed."))
    offset = (args["page"] - 1) * args["per_page"]
    items, total = module.result_rows(treatment, offset, args["per_page"])
    exports = {
        kind: url_for("api_treatments.export", treatment_id=treatment.id, fmt=kind, _external=True)
        for kind in module.exports
    }
    return {
        "items": items,
        "page": args["page"],
        "per_page": args["per_page"],
        "total": total,
        "exports": exports,
    }


@bp.get("/<treatment_id>/exports/<fmt>")
@bp.response(
    200, description="The file: a CSV table or a zip", content_type="application/octet-stream"
)
@bp.doc(security=TOKEN)
def export(treatment_id: str, fmt: str) -> Any:
    """Its results as a file, as on its results page."""
    treatment = visible_or_404(treatment_id)
    module = task_modules().get(treatment.task_type)
    if module is None or fmt not in module.exports:
        abort(404, _("No such export of this treatment."))
    return module.export(treatment, fmt)


@bp.post("/<treatment_id>/cancel")
@bp.response(200, TreatmentSchema)
@bp.doc(security=TOKEN)
def cancel(treatment_id: str) -> dict[str, Any]:
    """Stop it at the processing API; 409 once it has ended."""
    treatment = acted(visible_or_404(treatment_id), lambda t: service.cancel(t, current_user))
    db.session.refresh(treatment)
    return as_json(treatment)


@bp.post("/<treatment_id>/relaunch")
@bp.response(201, TreatmentSchema)
@bp.doc(security=TOKEN)
def relaunch(treatment_id: str) -> dict[str, Any]:
    """A new run with the same task, parameters and documents; 409 while it still runs."""
    return as_json(acted(visible_or_404(treatment_id), service.relaunch))


@bp.post("/<treatment_id>/retry")
@bp.response(201, TreatmentSchema)
@bp.doc(security=TOKEN)
def retry(treatment_id: str) -> dict[str, Any]:
    """A new treatment on exactly the documents it failed on, with its parameters; their
    results are shown with this one's. 409 when it has none."""
    return as_json(acted(visible_or_404(treatment_id), service.retry_failed))


@bp.delete("/<treatment_id>")
@bp.response(204)
@bp.doc(security=TOKEN)
def delete(treatment_id: str) -> None:
    """The treatment with its events and results; 409 while it still runs."""
    acted(visible_or_404(treatment_id), service.delete)


@bp.get("/<treatment_id>/callbacks")
@bp.response(200, DeliverySchema(many=True))
@bp.doc(security=TOKEN)
def callbacks(treatment_id: str) -> list[dict[str, Any]]:
    """The callbacks of its ending, newest first, with what became of each."""
    return deliveries_json("treatment_id", visible_or_404(treatment_id).id)


@bp.post("/<treatment_id>/callbacks/<int:delivery_id>/resend")
@bp.response(201, DeliverySchema)
@bp.doc(security=TOKEN)
def resend_callback(treatment_id: str, delivery_id: int) -> dict[str, Any]:
    """Send a callback again, now (the same message and `webhook-id`)."""
    return resent_json("treatment_id", visible_or_404(treatment_id).id, delivery_id)
