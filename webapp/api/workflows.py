"""`/api/v1/workflows`: run a workflow definition on a document set, follow it and its steps,
cancel and relaunch it; list and save definitions. The pages' rules (`webapp.workflows`)."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

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
from webapp.security import DatabaseInteger
from webapp.sharing import VISIBILITIES
from webapp.workflows.definitions import (
    Definition,
    DefinitionErrors,
    definition_for,
    definitions_for,
    delete_definition,
    save_definition,
)
from webapp.workflows.engine import cancel_workflow, relaunch_workflow, start_workflow
from webapp.workflows.models import Workflow
from webapp.workflows.routes import workflow_or_404

bp = ApiBlueprint(
    "api_workflows",
    __name__,
    url_prefix="/api/v1/workflows",
    description="Workflows: chains of treatments whose steps start when their inputs are ready.",
)


class StepSchema(Schema):
    name = fields.String(required=True)
    task = fields.String(required=True)
    parameters = fields.Dict(required=True)
    inputs = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Parameter filled from an earlier step: its name"},
    )


class DefinitionSchema(Schema):
    key = fields.String(required=True, metadata={"description": "What a run names it by"})
    name = fields.String(required=True)
    built_in = fields.Boolean(required=True)
    owner = fields.String(allow_none=True)
    visibility = fields.String(required=True, validate=validate.OneOf(list(VISIBILITIES)))
    shared_with = fields.List(fields.String(), required=True)
    steps = fields.List(fields.Nested(StepSchema), required=True)


class NewDefinitionSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    visibility = fields.String(load_default="private", validate=validate.OneOf(list(VISIBILITIES)))
    shared_with = fields.List(fields.Email(), load_default=list)
    steps = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 20))


class StepStateSchema(Schema):
    name = fields.String(required=True)
    task = fields.String(required=True)
    treatment = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    progress = fields.Float(required=True)
    inputs = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class WorkflowSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    status_label = fields.String(required=True)
    message = fields.String(required=True)
    error = fields.String(required=True)
    owner = fields.String(required=True)
    document_set = fields.Integer(allow_none=True)
    document_set_title = fields.String(required=True)
    progress = fields.Float(required=True)
    steps = fields.List(fields.Nested(StepStateSchema), required=True)
    requested_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    relaunch_of = fields.String(allow_none=True)
    callback_url = fields.String(allow_none=True)
    page = fields.Url(required=True)


class RunSchema(Schema):
    definition = fields.String(
        required=True,
        validate=validate.Length(1, 40),
        metadata={"description": "A definition's key: full-analysis, or a saved one's id"},
    )
    document_set = fields.Integer(
        required=True, validate=validate.Range(1, DatabaseInteger.LARGEST)
    )
    callback_url = callback_url_field()


class ListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))


def definition_json(definition: Definition) -> dict[str, Any]:
    stored = definition.stored
    return {
        "key": definition.key,
        "name": definition.name,
        "built_in": stored is None,
        "owner": stored.owner.email if stored else None,
        "visibility": stored.visibility if stored else "public",
        "shared_with": [u.email for u in stored.shared_with] if stored else [],
        "steps": definition.steps,
    }


def workflow_json(workflow: Workflow) -> dict[str, Any]:
    by_name = {s["name"]: s for s in workflow.steps}
    return {
        "id": workflow.id,
        "name": workflow.name,
        "status": workflow.status,
        "status_label": workflow.state.label,
        "message": workflow.message,
        "error": workflow.error,
        "owner": workflow.owner.email,
        "document_set": workflow.document_set_id,
        "document_set_title": workflow.document_set_title,
        "progress": workflow.fraction_done,
        "steps": [
            {
                "name": t.workflow_step,
                "task": t.task_type,
                "treatment": t.id,
                "status": t.status,
                "progress": t.fraction_done,
                "inputs": by_name.get(t.workflow_step, {}).get("inputs") or {},
            }
            for t in workflow.treatments
        ],
        "requested_at": workflow.requested_at,
        "started_at": workflow.started_at,
        "finished_at": workflow.finished_at,
        "relaunch_of": workflow.relaunch_of_id,
        "callback_url": workflow.callback_url,
        "page": url_for("workflows.detail", workflow_id=workflow.id, _external=True),
    }


@bp.get("/definitions")
@bp.response(200, DefinitionSchema(many=True))
@bp.doc(security=TOKEN)
def definitions() -> list[dict[str, Any]]:
    """The definitions the token's user may run: the built-in ones, theirs, public ones."""
    return [definition_json(d) for d in definitions_for(current_user)]


@bp.post("/definitions")
@bp.arguments(NewDefinitionSchema)
@bp.response(201, DefinitionSchema)
@bp.doc(security=TOKEN)
def new_definition(body: dict[str, Any]) -> dict[str, Any]:
    """Save a definition: unknown tasks, missing inputs, cycles and bad parameters are each
    refused with a message, keyed by the step (`steps.1.inputs.regions_treatment`)."""
    try:
        saved = save_definition(
            current_user, body["name"], body["steps"], body["visibility"], body["shared_with"]
        )
    except DefinitionErrors as exc:
        invalid(exc.fields)
    return definition_json(Definition(str(saved.id), saved.name, saved.steps, saved))


@bp.delete("/definitions/<definition_key>")
@bp.response(204)
@bp.doc(security=TOKEN)
def remove_definition(definition_key: str) -> None:
    """Delete one of the user's definitions (404 for a built-in one or someone else's)."""
    try:
        delete_definition(current_user, definition_key)
    except UserError as exc:
        abort(404, str(exc))


@bp.get("/")
@bp.arguments(ListArgs, location="query")
@bp.response(200, page_schema(WorkflowSchema))
@bp.doc(security=TOKEN)
def list_workflows(args: dict[str, Any]) -> dict[str, Any]:
    """The workflows the token's user may see, newest first."""
    stmt = select(Workflow).order_by(Workflow.requested_at.desc(), Workflow.id)
    if not current_user.is_admin:
        stmt = stmt.where(Workflow.owner_id == current_user.id)
    return listing(stmt, args, workflow_json, status=Workflow.status)


@bp.post("/")
@bp.arguments(RunSchema)
@bp.response(201, WorkflowSchema)
@bp.doc(security=TOKEN)
def run(body: dict[str, Any]) -> dict[str, Any]:
    """Run a definition on a document set; refused (400) when the processing API does not
    run one of its tasks."""
    definition = definition_for(current_user, body["definition"])
    if definition is None:
        invalid({"definition": [_("No such workflow definition, or not one you may run.")]})
    document_set = usable_set(current_user, str(body["document_set"]))
    if document_set is None:
        abort(404, _("No such document set, or not one you may use."))
    try:
        workflow = start_workflow(
            current_user, definition, document_set, callback_url=body["callback_url"]
        )
    except QuotaExceeded as exc:
        over_quota(exc)
    except UserError as exc:
        invalid({"definition": [str(exc)]})
    return workflow_json(workflow)


@bp.get("/<workflow_id>")
@bp.response(200, WorkflowSchema)
@bp.doc(security=TOKEN)
def get(workflow_id: str) -> dict[str, Any]:
    """A workflow with its steps, each a treatment."""
    return workflow_json(workflow_or_404(workflow_id))


@bp.post("/<workflow_id>/cancel")
@bp.response(200, WorkflowSchema)
@bp.doc(security=TOKEN)
def cancel(workflow_id: str) -> dict[str, Any]:
    """Cancel it and every step that has not ended, at the processing API too."""
    workflow = workflow_or_404(workflow_id)
    acted(workflow, _cancelled)
    db.session.refresh(workflow)
    return workflow_json(workflow)


def _cancelled(workflow: Workflow) -> None:
    """What a step's cancel refused is on its treatment; the workflow is cancelled."""
    cancel_workflow(workflow, current_user)


@bp.post("/<workflow_id>/relaunch")
@bp.response(201, WorkflowSchema)
@bp.doc(security=TOKEN)
def relaunch(workflow_id: str) -> dict[str, Any]:
    """The same definition on the same documents, once it has ended."""
    return workflow_json(acted(workflow_or_404(workflow_id), relaunch_workflow))


@bp.get("/<workflow_id>/callbacks")
@bp.response(200, DeliverySchema(many=True))
@bp.doc(security=TOKEN)
def callbacks(workflow_id: str) -> list[dict[str, Any]]:
    """The callbacks of its ending, newest first."""
    return deliveries_json("workflow_id", workflow_or_404(workflow_id).id)


@bp.post("/<workflow_id>/callbacks/<int:delivery_id>/resend")
@bp.response(201, DeliverySchema)
@bp.doc(security=TOKEN)
def resend_callback(workflow_id: str, delivery_id: int) -> dict[str, Any]:
    """Send a callback again, now (the same message and `webhook-id`)."""
    return resent_json("workflow_id", workflow_or_404(workflow_id).id, delivery_id)
