"""Running a flow: its locks, its steps in order, the undo of what was done when a step fails,
and the journal that lets the clock undo or finish the flow of a worker that died.

A flow's steps come in three groups, in this order:

- *outside* steps change the storage folder or Redis, each with an undo. Each is journaled
  (committed) as it starts, so an undo knows what may have been done, and each undo is safe
  to run on a step done in part or not at all;
- *database* steps change rows, all in one transaction, committed together with the phase
  COMMITTED: they are done whole or not at all, with nothing to undo;
- *finish* steps come after the commit (removing what was moved aside): they cannot fail
  the flow, and the clock runs them again for a worker that died before they were done.

`force_fail` fails the flow where it would commit: everything it did is undone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db
from webapp.flows.models import FlowLock, FlowRecord, Phase
from webapp.leases import take_lease

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


class FlowError(UserError):
    """The flow did not happen (what it had done is undone), for a reason a user can read."""


class FlowBusy(FlowError):
    """An object the flow changes is being changed by another flow."""


@dataclass(frozen=True)
class Step:
    name: str
    do: Callable[[FlowContext], None]
    undo: Callable[[FlowContext], None] | None = None
    where: Literal["outside", "database", "finish"] = "outside"


@dataclass(frozen=True)
class Lock:
    """An object the flow changes: `key` names it for every flow, `label` for a reader."""

    key: str
    label: str


class Flow:
    """A named sequence of steps over one or more objects, checked before it starts."""

    name: ClassVar[str]
    label: ClassVar[str]

    def check(self, user: User, data: Any) -> dict[str, Any]:
        """The data, checked and in its stored form, or FlowError saying what is wrong with
        it or why this user may not make this change."""
        raise NotImplementedError

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        raise NotImplementedError

    def steps(self) -> list[Step]:
        raise NotImplementedError

    def result(self, context: FlowContext) -> dict[str, Any]:
        """What the flow answers once done (the ids of what it made)."""
        return {}

    def subject(self, context: FlowContext) -> tuple[str, str, str]:
        """The object the timeline notes the flow under: its kind, id and label."""
        raise NotImplementedError


class FlowContext:
    """What a step works with: the flow's data, its user, and `state`, which the steps
    fill for later steps and for their undo, and which `save` journals."""

    def __init__(self, record: FlowRecord, progress: Progress | None = None) -> None:
        self.record = record
        self.data: dict[str, Any] = dict(record.data)
        self.state: dict[str, Any] = dict(record.state)
        self.flow_id = record.id
        self._progress = progress
        self.in_database = False

    @property
    def user(self) -> User | None:
        return db.session.get(User, self.record.user_id) if self.record.user_id else None

    def save(self) -> None:
        """Journal the state now (renewing the lease): an undo after a crash will see it."""
        assert not self.in_database, "a database step commits with the others, not alone"
        self.record.state = dict(self.state)
        self.record.claimed_at = utcnow()
        db.session.commit()

    def advance(self, done: int, total: int, text: str) -> None:
        """Tell the flow's follower how far a long step is; journals the state too."""
        self.save()
        if self._progress is not None:
            self._progress(done, total, text)


def _lease() -> float:
    return float(current_app.config["FLOW_LEASE_SECONDS"])


def flows() -> dict[str, type[Flow]]:
    from webapp.flows.registry import installed_flows

    return installed_flows()


def flow_named(name: Any) -> Flow:
    flow_class = flows().get(str(name))
    if flow_class is None:
        known = ", ".join(sorted(flows()))
        raise FlowError(
            _("No flow is named “%(name)s”. The flows are: %(known)s.", name=name, known=known)
        )
    return flow_class()


@dataclass(frozen=True)
class Submitted:
    record: FlowRecord
    # A sync flow's result; an async one's task, which its user follows.
    result: dict[str, Any] | None = None
    task_id: str | None = None


def submit(
    name: Any, data: Any, *, user: User, mode: str = "sync", force_fail: bool = False
) -> Submitted:
    """Check and run a flow: in sync mode its result, or FlowError once what it did is
    undone; in async mode at once, with the task that runs it."""
    if mode not in {"sync", "async"}:
        raise FlowError(_("The mode is “sync” or “async”."))
    flow = flow_named(name)
    checked = flow.check(user, data)
    record = begin(flow, checked, user, mode, force_fail)
    if mode == "async":
        from webapp.flows.task import start_flow_task

        return Submitted(record, task_id=start_flow_task(record, user))
    return Submitted(record, result=execute(record, flow))


def begin(
    flow: Flow, data: dict[str, Any], user: User, mode: str = "sync", force_fail: bool = False
) -> FlowRecord:
    """The flow's journal, committed with its locks: once no other flow holds them. A flow
    holding one is waited for FLOW_LOCK_WAIT_SECONDS, then this one is refused, naming it."""
    locks = flow.locks(data)
    deadline = time.monotonic() + float(current_app.config["FLOW_LOCK_WAIT_SECONDS"])
    while True:
        record = FlowRecord(
            name=flow.name,
            data=data,
            user_id=user.id,
            mode=mode,
            force_fail=force_fail,
            # An async flow's lease starts when a worker takes it.
            claimed_at=utcnow() if mode == "sync" else None,
            locks=[FlowLock(key=lock.key) for lock in locks],
        )
        db.session.add(record)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        else:
            return record
        if time.monotonic() >= deadline:
            raise FlowBusy(_held(locks))
        time.sleep(0.1)


def _held(locks: list[Lock]) -> str:
    keys = {lock.key: lock for lock in locks}
    held = db.session.scalars(select(FlowLock).where(FlowLock.key.in_(keys))).first()
    holder = db.session.get(FlowRecord, held.flow_id) if held else None
    if held is None or holder is None:  # it has just ended: the next try will take it
        return str(_("Another change was being made to the same objects; try again."))
    held_by = flows().get(holder.name)
    return str(
        _(
            "%(what)s is being changed by %(who)s (%(flow)s); try again.",
            what=keys[held.key].label,
            who=holder.user.display_name if holder.user else _("a deleted account"),
            flow=_(held_by.label) if held_by else holder.name,
        )
    )


def execute(record: FlowRecord, flow: Flow, progress: Progress | None = None) -> dict[str, Any]:
    """Do the flow's steps; its result, or FlowError once what it did is undone."""
    context = FlowContext(record, progress)
    steps = flow.steps()
    outside = [step for step in steps if step.where == "outside"]
    inside = [step for step in steps if step.where == "database"]
    total = len(outside) + 1
    try:
        for number, step in enumerate(outside):
            record.journal = [*record.journal, {"step": step.name, "done": False}]
            context.save()
            if progress is not None:
                progress(number, total, step.name)
            step.do(context)
            record.journal = [*record.journal[:-1], {"step": step.name, "done": True}]
            context.save()
        if progress is not None:
            progress(len(outside), total, "save the changes")
        context.in_database = True
        for step in inside:
            step.do(context)
        if record.force_fail:
            raise FlowError(_("The flow was made to fail on purpose (force_fail)."))
        result = flow.result(context)
        record.state = dict(context.state)
        record.result = result
        record.phase = Phase.COMMITTED
        record.claimed_at = utcnow()
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        if not isinstance(exc, UserError):
            log.exception("flow %s (%s) failed", record.id, record.name)
        undo(record, flow, _failure(exc))
        if isinstance(exc, Exception) and not isinstance(exc, FlowError):
            raise FlowError(_failure(exc)) from exc
        raise
    finish(record, flow)
    return result


def _failure(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    return str(_("The change failed unexpectedly and was undone; the error has been logged."))


def undo(record: FlowRecord, flow: Flow, reason: str) -> bool:
    """Undo the journaled steps, last first; whether all were undone (if not, the clock
    tries again once the lease has run out)."""
    context = FlowContext(record)
    by_name = {step.name: step for step in flow.steps()}
    complete = True
    for entry in reversed(record.journal):
        step = by_name.get(entry["step"])
        if step is None or step.undo is None:
            continue
        try:
            step.undo(context)
        except Exception:
            log.exception("flow %s: undoing %s failed", record.id, entry["step"])
            db.session.rollback()
            complete = False
    if complete:
        _end(record, flow, Phase.UNDONE, reason)
    return complete


def finish(record: FlowRecord, flow: Flow) -> bool:
    """The steps after the commit; whether all were done (if not, the clock does them)."""
    context = FlowContext(record)
    try:
        for step in flow.steps():
            if step.where == "finish":
                step.do(context)
    except Exception:
        log.exception("flow %s: its finish failed; the clock will do it", record.id)
        db.session.rollback()
        return False
    _end(record, flow, Phase.DONE)
    return True


def _end(record: FlowRecord, flow: Flow, phase: Phase, error: str = "") -> None:
    """The flow's end, with its locks let go and its entry on the timeline."""
    from webapp.timeline.record import FLOW_PREFIX
    from webapp.timeline.record import record as note

    note(
        FLOW_PREFIX + record.name,
        actor=record.user,
        outcome="success" if phase is Phase.DONE else "failure",
        subject=flow.subject(FlowContext(record)),
        details={
            "flow": record.id,
            "data": record.data,
            "result": record.result,
            "error": error,
            "force_fail": record.force_fail,
        },
    )
    db.session.execute(delete(FlowLock).where(FlowLock.flow_id == record.id))
    record.phase = phase
    record.error = error
    record.finished_at = utcnow()
    record.claimed_at = None
    db.session.commit()


DIED = "The worker making this change stopped; what it had done was undone."


def recover(record_id: str) -> Phase | None:
    """Undo, or finish once committed, the flow of a worker that died; the phase it is
    left in, or None when a live worker holds it."""
    if not take_lease(
        FlowRecord,
        record_id,
        _lease(),
        FlowRecord.phase.in_([Phase.RUNNING.value, Phase.COMMITTED.value]),
    ):
        record = db.session.get(FlowRecord, record_id)
        return record.state_of_phase if record and record.state_of_phase.is_over else None
    record = db.session.get(FlowRecord, record_id)
    assert record is not None
    flow_class = flows().get(record.name)
    if flow_class is None:
        log.error("flow %s: no flow named %s is installed to recover it", record_id, record.name)
        return None
    if record.state_of_phase is Phase.COMMITTED:
        finish(record, flow_class())
    else:
        undo(record, flow_class(), DIED)
    db.session.refresh(record)
    return record.state_of_phase


def recover_flows() -> int:
    """The clock's part: every flow whose worker died (its lease ran out), or whose task
    ended before running it, undone or finished; how many."""
    from webapp.lifecycle import TERMINAL
    from webapp.tasks.models import Task

    expired = utcnow() - timedelta(seconds=_lease())
    stalled = db.session.scalars(
        select(FlowRecord.id)
        .outerjoin(Task, Task.id == FlowRecord.task_id)
        .where(
            FlowRecord.phase.in_([Phase.RUNNING.value, Phase.COMMITTED.value]),
            or_(
                FlowRecord.claimed_at < expired,
                FlowRecord.claimed_at.is_(None) & Task.status.in_([s.value for s in TERMINAL]),
                FlowRecord.claimed_at.is_(None)
                & FlowRecord.task_id.is_(None)
                & (FlowRecord.started_at < expired),
            ),
        )
    ).all()
    return sum(recover(record_id) is not None for record_id in stalled)
