"""`/api/v1/flows`: submit a catalogue change that happens whole or not at all, sync (its
result) or async (a task to follow); list and read the flows submitted."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from webapp.api.blueprint import ApiBlueprint
from webapp.api.schemas import TOKEN, PageArgs, conflict, invalid, listing, page_schema
from webapp.extensions import db
from webapp.flows.engine import FlowBusy, FlowError, flow_named, flows, submit
from webapp.flows.models import FlowRecord, Phase

bp = ApiBlueprint(
    "api_flows",
    __name__,
    url_prefix="/api/v1/flows",
    description="Flows: catalogue changes made whole or not at all, one at a time per object.",
)


class SubmitSchema(Schema):
    flow = fields.String(
        required=True,
        validate=validate.Length(1, 80),
        metadata={"description": "delete_witness, import_witness, merge_witnesses, …"},
    )
    data = fields.Dict(load_default=dict, metadata={"description": "The flow's own data"})
    mode = fields.String(load_default="sync", validate=validate.OneOf(["sync", "async"]))
    force_fail = fields.Boolean(
        load_default=False, metadata={"description": "Fail at the end, undoing everything"}
    )


class FlowSchema(Schema):
    id = fields.String(required=True)
    flow = fields.String(required=True)
    label = fields.String(required=True)
    mode = fields.String(required=True)
    phase = fields.String(required=True, validate=validate.OneOf([p.value for p in Phase]))
    user = fields.String(allow_none=True)
    data = fields.Dict(required=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(required=True)
    task = fields.String(allow_none=True, metadata={"description": "An async flow's task"})
    task_url = fields.Url(allow_none=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


class ListArgs(PageArgs):
    flow = fields.String(validate=validate.Length(1, 80))
    phase = fields.String(validate=validate.OneOf([p.value for p in Phase]))


def flow_json(record: FlowRecord) -> dict[str, Any]:
    flow_class = flows().get(record.name)
    return {
        "id": record.id,
        "flow": record.name,
        "label": _(flow_class.label) if flow_class else record.name,
        "mode": record.mode,
        "phase": record.phase,
        "user": record.user.email if record.user else None,
        "data": record.data,
        "result": record.result,
        "error": record.error,
        "task": record.task_id,
        "task_url": url_for("api_tasks.get", task_id=record.task_id, _external=True)
        if record.task_id
        else None,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
    }


@bp.post("/")
@bp.arguments(SubmitSchema)
@bp.response(200, FlowSchema)
@bp.alt_response(202, schema=FlowSchema, description="Queued (async): follow its task")
@bp.doc(security=TOKEN)
def submit_flow(body: dict[str, Any]) -> Any:
    """Run a flow. Sync: its result once done (400 with its reason, once what it did is
    undone). Async: at once (202), with the task that runs it. 409 while another flow changes
    the same object."""
    try:
        flow_named(body["flow"])
    except FlowError as exc:
        invalid({"flow": [str(exc)]})
    try:
        submitted = submit(
            body["flow"],
            body["data"],
            user=current_user,
            mode=body["mode"],
            force_fail=body["force_fail"],
        )
    except FlowBusy as exc:
        conflict(str(exc))
    except FlowError as exc:
        invalid({"data": [str(exc)]})
    db.session.refresh(submitted.record)
    return flow_json(submitted.record), 202 if submitted.task_id else 200


@bp.get("/")
@bp.arguments(ListArgs, location="query")
@bp.response(200, page_schema(FlowSchema))
@bp.doc(security=TOKEN)
def list_flows(args: dict[str, Any]) -> dict[str, Any]:
    """The flows the token's user submitted (an administrator: everyone's), newest first."""
    stmt = select(FlowRecord).order_by(FlowRecord.started_at.desc(), FlowRecord.id)
    if not current_user.is_admin:
        stmt = stmt.where(FlowRecord.user_id == current_user.id)
    return listing(stmt, args, flow_json, flow=FlowRecord.name, phase=FlowRecord.phase)


@bp.get("/<flow_id>")
@bp.response(200, FlowSchema)
@bp.doc(security=TOKEN)
def get(flow_id: str) -> dict[str, Any]:
    """One flow: how far it went, its result or why it was undone."""
    record = db.session.get(FlowRecord, flow_id.strip().lower())
    if record is None or not (current_user.is_admin or record.user_id == current_user.id):
        abort(404, _("No such flow."))
    return flow_json(record)
