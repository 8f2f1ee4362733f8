"""The RQ job that runs a background task, and the clock's part: queue again what Redis lost,
take over what a dead worker left."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app, g
from redis.client import Pipeline
from sqlalchemy import or_, select, update

from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status, claim, transition
from webapp.live.publish import as_in_a_request
from webapp.tasks.base import BackgroundTask, InputError, TaskCancelled, TaskFailed
from webapp.tasks.models import Task
from webapp.tasks.registry import background_tasks
from webapp.tasks.run import TaskRun
from webapp.tracked_jobs import enqueue_tracked, tracked_job_waiting

log = logging.getLogger(__name__)
UNEXPECTED = "The task failed unexpectedly; the error has been logged."
UNFINISHED = [Status.PENDING, Status.STARTED, Status.IN_PROGRESS]


def _job_name(task_id: str) -> str:
    return f"task:{task_id}"


def enqueue_task(task_id: str, name: str, pipeline: Pipeline | None = None) -> None:
    """Queue the task's run (with what `pipeline` holds); RQ stops it past its class's
    time-out."""
    task_class = background_tasks().get(name)
    timeout = task_class.timeout_seconds if task_class else 60
    enqueue_tracked(_job_name(task_id), run_task, task_id, job_timeout=timeout, pipeline=pipeline)


def _lease() -> float:
    return float(current_app.config["TASK_LEASE_SECONDS"])


def run_task(task_id: str) -> None:
    """RQ job: run the task once; a second job for the same task finds it taken and leaves.

    A task that was running when its worker died is taken over once its lease has run out,
    and run again from the start, up to TASK_MAX_ATTEMPTS times.
    """
    task = db.session.get(Task, task_id)
    if task is None or task.container:
        return  # deleted meanwhile; or a container, whose children do its work
    if task.state is Status.PENDING:
        # The move to STARTED is the claim: of two jobs of one task, one moves it.
        if not transition(task, Status.STARTED, values={"claimed_at": utcnow()}):
            return
    else:
        if not claim(Task, task_id, UNFINISHED, _lease()):
            return
        db.session.refresh(task)
        if task.attempts + 1 >= current_app.config["TASK_MAX_ATTEMPTS"]:
            transition(
                task,
                Status.ERROR,
                error=f"The worker running this task stopped {task.attempts + 1} times.",
            )
            return
        db.session.execute(
            update(Task).where(Task.id == task_id).values(attempts=Task.attempts + 1)
        )
        db.session.commit()
    task_class = background_tasks().get(task.name)
    if task_class is None:
        transition(task, Status.ERROR, error=f"No task named “{task.name}” is installed here.")
        return
    as_in_a_request(lambda: _perform(task, task_class))


@contextmanager
def _as(user: Any) -> Iterator[None]:
    """The run acts as its owner: what it reads of `current_user` (their marks, their
    language) is theirs. The request's own user, if any, is given back after."""
    before = g.pop("_login_user", None)
    g._login_user = user
    try:
        yield
    finally:
        g.pop("_login_user", None)
        if before is not None:
            g._login_user = before


def _perform(task: Task, task_class: type[BackgroundTask]) -> None:
    with _as(task.owner):
        _run(task, task_class)


def _run(task: Task, task_class: type[BackgroundTask]) -> None:
    run = TaskRun(task)
    try:
        outputs = task_class().run(run, **task.inputs)
    except TaskCancelled:
        db.session.rollback()
        return
    except (TaskFailed, InputError, UserError) as exc:
        db.session.rollback()
        transition(task, Status.ERROR, error=str(exc), values={"claimed_at": None})
        return
    except Exception:
        log.exception("task %s (%s) failed", task.id, task.name)
        db.session.rollback()
        transition(task, Status.ERROR, error=UNEXPECTED, values={"claimed_at": None})
        return
    if run.children:
        _contain(run)
        return
    problems = task_class.output_schema().validate(outputs or {})
    if problems:
        log.error(
            "task %s (%s) returned outputs it does not declare: %s", task.id, task.name, problems
        )
        transition(task, Status.ERROR, error=UNEXPECTED, values={"claimed_at": None})
        return
    done = task.target if task.target is not None else task.current
    transition(
        task,
        Status.SUCCESS,
        task.message or "Done.",
        values={"outputs": outputs or {}, "current": done, "claimed_at": None},
    )


def _contain(run: TaskRun) -> None:
    """The run started children: the task is now theirs to end."""
    from webapp.tasks.service import settle

    task = run.task
    try:
        run.become_container()
    except TaskCancelled:
        db.session.rollback()
        return
    for child in run.children:
        enqueue_task(child.id, child.name)
    settle(task)


def dispatch_tasks() -> int:
    """The clock's part: queue again every task whose job is gone, or whose worker died (its
    lease ran out); how many were queued."""
    config = current_app.config
    now = utcnow()
    grace = now - timedelta(seconds=config["DISPATCH_GRACE_SECONDS"])
    lease = now - timedelta(seconds=_lease())
    stalled = db.session.execute(
        select(Task.id, Task.name, Task.claimed_at).where(
            Task.status.in_([s.value for s in UNFINISHED]),
            Task.container.is_(False),
            or_(Task.claimed_at < lease, Task.claimed_at.is_(None) & (Task.updated_at < grace)),
        )
    ).all()
    count = 0
    for task_id, name, claimed_at in stalled:
        if claimed_at is None and tracked_job_waiting(_job_name(task_id)):
            continue
        enqueue_task(task_id, name)
        count += 1
    # A container is settled by its last child's ending; a worker that died between the two
    # leaves it to the clock.
    from webapp.tasks.service import settle

    quiet = db.session.scalars(
        select(Task).where(
            Task.status.in_([s.value for s in UNFINISHED]),
            Task.container.is_(True),
            Task.updated_at < grace,
        )
    )
    for container in list(quiet):
        settle(container)
    return count
