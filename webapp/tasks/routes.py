"""The pages of background tasks: the list (one's own; an admin's: all), a task's page with
its progress, history, children and artifacts, followed live by `task-api.js`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.callbacks.outbox import deliveries_of
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.lists import changes_stream
from webapp.pagination import paginate
from webapp.tasks.files import artifact_of, artifact_response
from webapp.tasks.models import Task, TaskEvent
from webapp.tasks.registry import background_tasks, offered_tasks
from webapp.tasks.service import cancel_task, delete_task

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
# htmx stops polling on this status.
STOP_POLLING = 286


def task_or_404(task_id: str) -> Task:
    task = db.session.get(Task, task_id[:36].lower())
    if task is None or not task.visible_to(current_user):
        abort(404, _("No such task, or not one of yours."))
    return task


def live_context(task: Task) -> dict[str, Any]:
    """What a task's page shows: the one context of its first load and of each update."""
    events = db.session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
    )
    return {
        "task": task,
        "task_class": background_tasks().get(task.name),
        "events": list(events),
        "children": task.children if task.container else [],
    }


def _listing() -> dict[str, Any]:
    """The list's page of tasks, as loaded, streamed and polled: the reader's own, or all for
    an administrator; with a status, those in it."""
    status = request.args.get("status", "")
    stmt = (
        select(Task)
        .options(joinedload(Task.owner))
        .where(Task.parent_id.is_(None))
        .order_by(Task.requested_at.desc(), Task.id)
    )
    if not current_user.is_admin:
        stmt = stmt.where(Task.owner_id == current_user.id)
    if status in Status.__members__:
        stmt = stmt.where(Task.status == status)
    return {
        "pagination": paginate(stmt, per_page=50),
        "status": status,
        "classes": offered_tasks(),
    }


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("tasks/list.html", statuses=list(Status), **_listing())


@bp.get("/rows")
def rows() -> ResponseReturnValue:
    return render_template("tasks/_rows.html", **_listing())


@bp.get("/stream")
def list_stream() -> ResponseReturnValue:
    return changes_stream(
        lambda m: "task_id" in m or m.get("removed") == "task", admins_see_all=True
    )


@bp.get("/<task_id>")
def detail(task_id: str) -> ResponseReturnValue:
    task = task_or_404(task_id)
    return render_template(
        "tasks/detail.html", **live_context(task), deliveries=deliveries_of("task_id", task.id)
    )


@bp.get("/<task_id>/live")
def live(task_id: str) -> ResponseReturnValue:
    task = task_or_404(task_id)
    html = render_template("tasks/_live.html", **live_context(task))
    return html, STOP_POLLING if task.state.is_terminal else 200


@bp.post("/<task_id>/cancel")
def cancel(task_id: str) -> ResponseReturnValue:
    task = task_or_404(task_id)
    try:
        cancel_task(task, current_user)
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The task was cancelled."), "success")
    return redirect(url_for("tasks.detail", task_id=task.id))


@bp.post("/<task_id>/delete")
def delete(task_id: str) -> ResponseReturnValue:
    task = task_or_404(task_id)
    try:
        delete_task(task)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("tasks.detail", task_id=task.id))
    flash(_("The task was deleted, with its history and artifacts."), "success")
    return redirect(url_for("tasks.index"))


@bp.get("/<task_id>/artifacts/<int:artifact_id>")
def artifact(task_id: str, artifact_id: int) -> ResponseReturnValue:
    return artifact_response(artifact_of(task_or_404(task_id), artifact_id))
