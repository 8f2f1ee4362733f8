"""Starting, cancelling and deleting background tasks, what follows their moves, and a
container's state from its children's: the rules, without HTTP."""

from __future__ import annotations

import json
import shutil
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from webapp.callbacks.signing import secret_of
from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db, redis_transaction
from webapp.inserted import insert_rows, loaded_object, row_values, table_of
from webapp.lifecycle import TERMINAL, Status, aggregate, transition
from webapp.live.publish import as_in_a_request, publish_removed, send_update
from webapp.tasks.base import InputError
from webapp.tasks.models import Task
from webapp.tasks.registry import background_tasks
from webapp.tasks.run import artifact_folder
from webapp.timeline.models import TimelineEntry
from webapp.timeline.record import entry_values, record, record_now


class Started(NamedTuple):
    task: Task
    # As it was when committed, for the caller to answer with: read again, the task would
    # cost a query per attribute group its commit expired.
    described: dict[str, Any]


def start_task(
    owner: Any,
    name: str,
    inputs: Any,
    *,
    parent: Task | None = None,
    queue: bool = True,
    callback_url: str | None = None,
) -> Started:
    """Check the inputs with the task's own schema and rules, commit the task as PENDING,
    then queue it (DESIGN 3); InputError with a message per input otherwise."""
    from webapp.tasks.described import task_json
    from webapp.tasks.runner import enqueue_task

    task_class = background_tasks().get(str(name))
    if task_class is None:
        known = ", ".join(sorted(background_tasks()))
        raise InputError({"name": [f"No task is named {name!r}. The tasks are: {known}."]})
    if task_class.admin_only and not owner.is_admin:
        raise InputError({"name": [f"Only administrators may start “{task_class.label}”."]})
    loaded = task_class.load_inputs(inputs)
    task_class().check(owner, loaded)
    if callback_url:
        secret_of(owner)  # for its owner to verify the callback with, before it comes
    row = row_values(
        table_of(Task),
        {
            "name": task_class.name,
            "owner_id": owner.id,
            "parent_id": parent.id if parent else None,
            "inputs": json.loads(json.dumps(loaded)),
            "callback_url": callback_url,
        },
    )
    task = loaded_object(Task, row, owner=owner, artifacts=[], children=[])
    rows: list[tuple[type[Any], dict[str, Any]]] = [(Task, row)]
    if parent is None and task_class.offered:  # a part, or a flow, is noted with its whole
        rows.append((TimelineEntry, entry_values("task.start", task, actor=owner)))
    # No unit of work, one statement: starts are the API's busiest call (webapp.inserted).
    insert_rows(*rows)
    db.session.add(task)
    described = as_in_a_request(lambda: task_json(task))
    # Read before the commit, which expires what it wrote: each read after costs a query.
    task_id, owner_id = task.id, task.owner_id
    db.session.commit()
    update = _update(task_id, owner_id, terminal=False, described=described)
    if queue:
        # The pages' news and the job in one round trip: starts are the API's busiest call.
        pipe = redis_transaction()
        send_update(update, pipeline=pipe)
        enqueue_task(task_id, task_class.name, pipeline=pipe)
    else:
        send_update(update)
    return Started(task, described)


def cancel_task(task: Task, by: Any) -> None:
    """Cancel the task and its unfinished children; a running one stops at its next call."""
    if task.state.is_terminal:
        raise UserError(_("This task has already ended (%(label)s).", label=task.state.label))
    if not transition(task, Status.CANCELLED, f"Cancelled by {by.display_name}."):
        raise UserError(
            _("This task ended before it could be cancelled (%(label)s).", label=task.state.label)
        )
    for child in unfinished_children(task):
        transition(child, Status.CANCELLED, "Cancelled with the task it is part of.")
    record_now("task.cancel", task, actor=by)


def unfinished_children(task: Task) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task).where(
                Task.parent_id == task.id, Task.status.not_in([s.value for s in TERMINAL])
            )
        )
    )


def delete_task(task: Task) -> None:
    """The task, its children, their histories and artifacts, files included. Only an ended
    one: a running one is cancelled first."""
    if not task.state.is_terminal:
        raise UserError(_("Cancel it first: it is still running."))
    record("task.delete", task)
    forget_tasks([task.id])
    publish_removed("task", task.id, task.owner_id)


def forget_tasks(task_ids: list[str]) -> None:
    """Delete these tasks (their children, events and artifacts cascade) and their files."""
    ids = set(task_ids)
    frontier = set(ids)
    while frontier:
        frontier = set(db.session.scalars(select(Task.id).where(Task.parent_id.in_(frontier))))
        ids |= frontier
    db.session.execute(delete(Task).where(Task.id.in_(task_ids)))
    db.session.commit()
    for task_id in ids:
        shutil.rmtree(artifact_folder(task_id), ignore_errors=True)


def moved(task: Task, target: Status) -> None:
    """After a move is committed: tell the pages; an ended child may end its container."""
    publish_task(task)  # which reads the task afresh, for what follows too
    if target.is_terminal and task.parent_id:
        parent = db.session.get(Task, task.parent_id)
        if parent is not None:
            settle(parent)


def settle(container: Task) -> None:
    """A container's progress and state from its children's (DESIGN 3): it counts the
    children that ended, and ends when the last one does."""
    if not container.container or container.state.is_terminal:
        return
    states = [
        Status(status)
        for status in db.session.scalars(select(Task.status).where(Task.parent_id == container.id))
    ]
    ended = sum(state.is_terminal for state in states)
    db.session.execute(
        update(Task)
        .where(Task.id == container.id, Task.status.not_in([s.value for s in TERMINAL]))
        .values(current=ended, target=len(states), updated_at=utcnow())
    )
    db.session.commit()
    db.session.refresh(container)
    outcome = aggregate(states)
    failed = states.count(Status.ERROR)
    if outcome.is_terminal:
        said = f"{states.count(Status.SUCCESS)} of {len(states)} succeeded" + (
            f", {failed} failed." if failed else "."
        )
        transition(container, outcome, said, error=said, values={"claimed_at": None})
    else:
        publish_task(container)


def publish_task(task: Task) -> None:
    """Send the task's state to every page and client following it. Best effort: one that
    misses it gets the state when it reconnects, or by polling."""
    from webapp.tasks.described import task_json

    # After a move or a write the row is stale: read once with what the description needs.
    fresh = (
        db.session.scalars(
            select(Task)
            .options(joinedload(Task.owner), joinedload(Task.artifacts))
            .where(Task.id == task.stored_id)
            .execution_options(populate_existing=True)
        )
        .unique()
        .one()
    )
    described = as_in_a_request(lambda: task_json(fresh))
    send_update(_update(fresh.id, fresh.owner_id, fresh.state.is_terminal, described))


def _update(task_id: str, owner_id: int, terminal: bool, described: Any) -> dict[str, Any]:
    """The live message of a task's change."""
    return {"task_id": task_id, "owner_id": owner_id, "terminal": terminal, "task": described}
