"""`/api/v1/tasks`: start a background task with typed inputs, follow it (polling or its
live stream), cancel and delete it, download its artifacts; users see their own, admins all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask.typing import ResponseReturnValue
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from webapp.api import api
from webapp.api.blueprint import ApiBlueprint
from webapp.api.callbacks import DeliverySchema, callback_url_field, deliveries_json, resent_json
from webapp.api.schemas import TOKEN, PageArgs, acted, invalid, listing, page_schema
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.hub import Message
from webapp.live.publish import json_default
from webapp.live.streams import event_stream, sse
from webapp.tasks.base import InputError
from webapp.tasks.described import artifact_json, task_json
from webapp.tasks.files import artifact_of, artifact_response
from webapp.tasks.models import Task, TaskEvent
from webapp.tasks.registry import offered_tasks
from webapp.tasks.routes import task_or_404 as visible_task_or_404
from webapp.tasks.service import cancel_task, delete_task, start_task

bp = ApiBlueprint(
    "api_tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Background tasks: typed inputs in, progress, messages, outputs and artifacts out.",
)


class ArtifactSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["file", "url", "text"]))
    name = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    url = fields.String(allow_none=True, metadata={"description": "A URL artifact's address"})
    text = fields.String(allow_none=True, metadata={"description": "A text artifact's text"})
    download = fields.Url(required=True)
    created_at = fields.DateTime(required=True)


class TaskProgressSchema(Schema):
    current = fields.Integer(required=True)
    target = fields.Integer(allow_none=True, metadata={"description": "None until it is known"})
    fraction = fields.Float(required=True)
    text = fields.String(required=True)


class TaskSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    label = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    status_label = fields.String(required=True)
    sub_state = fields.String(required=True)
    message = fields.String(required=True)
    error = fields.String(required=True)
    owner = fields.String(required=True)
    inputs = fields.Dict(required=True)
    outputs = fields.Dict(allow_none=True)
    progress = fields.Nested(TaskProgressSchema, required=True)
    eta_seconds = fields.Float(allow_none=True)
    attempts = fields.Integer(required=True)
    parent = fields.String(allow_none=True)
    container = fields.Boolean(required=True)
    children = fields.List(fields.String(), required=True)
    artifacts = fields.List(fields.Nested(ArtifactSchema), required=True)
    requested_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    callback_url = fields.String(allow_none=True)
    page = fields.Url(required=True)


class StartSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 80))
    inputs = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "The task's inputs, as its type declares them"},
    )
    callback_url = callback_url_field()


class TaskListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    name = fields.String(validate=validate.Length(max=80))
    parent = fields.String(
        validate=validate.Length(max=36),
        metadata={"description": "Only the children of this container"},
    )


class TaskEventSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "move or message"})
    event = fields.String(required=True)
    text = fields.String(required=True)
    at = fields.DateTime(required=True)


class TaskTypeSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    description = fields.String(required=True)
    admin_only = fields.Boolean(required=True)
    inputs = fields.Dict(required=True, metadata={"description": "A JSON Schema of the inputs"})
    outputs = fields.Dict(required=True, metadata={"description": "A JSON Schema of the outputs"})


@bp.get("/types")
@bp.response(200, TaskTypeSchema(many=True))
@bp.doc(security=TOKEN)
def types() -> list[dict[str, Any]]:
    """The tasks this installation runs, with a JSON Schema of each one's inputs and outputs."""
    converter = api.ma_plugin.converter
    return [
        {
            "name": name,
            "label": task_class.label,
            "description": task_class.description,
            "admin_only": task_class.admin_only,
            "inputs": converter.schema2jsonschema(task_class.input_schema()),
            "outputs": converter.schema2jsonschema(task_class.output_schema()),
        }
        for name, task_class in sorted(offered_tasks().items())
    ]


@bp.get("/")
@bp.arguments(TaskListArgs, location="query")
@bp.response(200, page_schema(TaskSchema))
@bp.doc(security=TOKEN)
def list_tasks(args: dict[str, Any]) -> dict[str, Any]:
    """The tasks the user may see, newest first: their own (an admin's: all); without
    `parent`, the top-level ones."""
    stmt = (
        select(Task)
        .options(joinedload(Task.owner), selectinload(Task.artifacts), selectinload(Task.children))
        .order_by(Task.requested_at.desc(), Task.id)
    )
    if not current_user.is_admin:
        stmt = stmt.where(Task.owner_id == current_user.id)
    stmt = stmt.where(
        Task.parent_id == args["parent"].lower() if args.get("parent") else Task.parent_id.is_(None)
    )
    return listing(stmt, args, task_json, status=Task.status, name=Task.name)


@bp.post("/")
@bp.arguments(StartSchema)
@bp.response(201, TaskSchema)
@bp.doc(security=TOKEN)
def start(body: dict[str, Any]) -> dict[str, Any]:
    """Start a task: its inputs are checked against its type (400 with a message per
    input, keyed by the input's name), then it is queued."""
    try:
        started = start_task(
            current_user._get_current_object(),
            body["name"],
            body["inputs"],
            callback_url=body["callback_url"],
        )
    except InputError as exc:
        invalid(exc.problems)
    return started.described


@bp.get("/<task_id>")
@bp.response(200, TaskSchema)
@bp.doc(security=TOKEN)
def get(task_id: str) -> dict[str, Any]:
    """A task with its progress, ETA, outputs and artifacts."""
    return task_json(visible_task_or_404(task_id))


@bp.get("/<task_id>/events")
@bp.response(200, TaskEventSchema(many=True))
@bp.doc(security=TOKEN)
def events(task_id: str) -> list[Any]:
    """Its history, oldest first: the moves of its status and its messages."""
    task = visible_task_or_404(task_id)
    return list(
        db.session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
        )
    )


@bp.get("/<task_id>/stream")
@bp.response(
    200,
    description="Server-Sent Events: `task` with the task as JSON at each change, `end` once "
    "it has ended",
    content_type="text/event-stream",
)
@bp.doc(security=TOKEN)
def stream(task_id: str) -> ResponseReturnValue:
    """Its changes as they happen, its current state first."""
    task = visible_task_or_404(task_id)

    def events_of(described: dict[str, Any], terminal: bool) -> Iterator[str]:
        yield sse("task", json.dumps(described, default=json_default))
        if terminal:
            yield sse("end", "")

    def current() -> Iterator[str]:
        return events_of(task_json(task), task.state.is_terminal)

    def render(message: Message) -> Iterator[str]:
        return events_of(message["task"], bool(message.get("terminal")))

    return event_stream(lambda m: m.get("task_id") == task.id, current, render)


@bp.post("/<task_id>/cancel")
@bp.response(200, TaskSchema)
@bp.doc(security=TOKEN)
def cancel(task_id: str) -> dict[str, Any]:
    """Cancel it and its unfinished children; running work stops at its next step. 409 once
    it has ended."""
    task = acted(visible_task_or_404(task_id), lambda t: cancel_task(t, current_user))
    db.session.refresh(task)
    return task_json(task)


@bp.delete("/<task_id>")
@bp.response(204)
@bp.doc(security=TOKEN)
def delete(task_id: str) -> None:
    """The task with its children, history and artifacts; 409 while it still runs."""
    acted(visible_task_or_404(task_id), delete_task)


@bp.get("/<task_id>/artifacts/")
@bp.response(200, ArtifactSchema(many=True))
@bp.doc(security=TOKEN)
def artifacts(task_id: str) -> list[dict[str, Any]]:
    return [artifact_json(a) for a in visible_task_or_404(task_id).artifacts]


@bp.get("/<task_id>/artifacts/<int:artifact_id>")
@bp.response(
    200,
    description="The artifact: a file as a download, a text as text/plain; a URL redirects",
    content_type="application/octet-stream",
)
@bp.alt_response(303, description="A URL artifact: its address")
@bp.doc(security=TOKEN)
def artifact(task_id: str, artifact_id: int) -> ResponseReturnValue:
    return artifact_response(artifact_of(visible_task_or_404(task_id), artifact_id))


@bp.get("/<task_id>/callbacks")
@bp.response(200, DeliverySchema(many=True))
@bp.doc(security=TOKEN)
def callbacks(task_id: str) -> list[dict[str, Any]]:
    """The callbacks of its ending, newest first, with what became of each."""
    return deliveries_json("task_id", visible_task_or_404(task_id).id)


@bp.post("/<task_id>/callbacks/<int:delivery_id>/resend")
@bp.response(201, DeliverySchema)
@bp.doc(security=TOKEN)
def resend_callback(task_id: str, delivery_id: int) -> dict[str, Any]:
    """Send a callback again, now (the same message and `webhook-id`)."""
    return resent_json("task_id", visible_task_or_404(task_id).id, delivery_id)
