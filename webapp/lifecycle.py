"""The one lifecycle of all user-visible work (DESIGN 3): statuses, moves, progress, timestamps.

Every change of status of every kind of work goes through `transition`, a single conditional
UPDATE: two writers racing (a cancel and a SUCCESS, the reaper and a SUCCESS) can never both
win, and a terminal state is never left.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from flask_babel import gettext
from sqlalchemy import String, Text, event, func, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from webapp.callbacks.outbox import queue_callbacks, record_callback
from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.i18n import N_
from webapp.leases import take_lease


class Status(StrEnum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    RETRYING = "RETRYING"
    WAITING = "WAITING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def label(self) -> str:
        """In the reader's language (English where no one reads: a worker, the history)."""
        return str(gettext(_LABELS[self]))

    @property
    def recorded_label(self) -> str:
        """As the history keeps it: in one language for everyone who reads it later."""
        return _LABELS[self]

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


_LABELS = {
    Status.PENDING: N_("Queued"),
    Status.STARTED: N_("Started"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.RETRYING: N_("Retrying"),
    Status.WAITING: N_("Waiting"),
    Status.SUCCESS: N_("Succeeded"),
    Status.ERROR: N_("Failed"),
    Status.CANCELLED: N_("Cancelled"),
}
# Shapes as well as colours, so that no status is told by colour alone.
_ICONS = {
    Status.PENDING: "◷",
    Status.STARTED: "▶",
    Status.IN_PROGRESS: "⟳",
    Status.RETRYING: "↻",
    Status.WAITING: "⏸",
    Status.SUCCESS: "✓",
    Status.ERROR: "✕",
    Status.CANCELLED: "⊘",
}
TERMINAL = frozenset({Status.SUCCESS, Status.ERROR, Status.CANCELLED})
# How far along each status is: work only ever moves forwards (RETRYING may go back to
# STARTED once a retry succeeds, so it ranks with PENDING).
_RANK = {
    Status.WAITING: 0,
    Status.PENDING: 0,
    Status.RETRYING: 0,
    Status.STARTED: 1,
    Status.IN_PROGRESS: 2,
    Status.SUCCESS: 3,
    Status.ERROR: 3,
    Status.CANCELLED: 3,
}


UNKNOWN_FAILURE = "The work failed for an unknown reason."
_LOCKED = "lifecycle_locked"


def sources(target: Status) -> frozenset[Status]:
    """The statuses work may leave for `target`: never a terminal one, never backwards."""
    if target is Status.RETRYING:
        return frozenset({Status.PENDING, Status.RETRYING})
    return frozenset(
        s for s in Status if not s.is_terminal and s is not target and _RANK[s] <= _RANK[target]
    )


def aggregate(parts: list[Status]) -> Status:
    """The state of work made of parts (a container, a workflow): IN_PROGRESS while any part
    has not ended; once all have, ERROR if any failed, CANCELLED if any was cancelled,
    SUCCESS only when all succeeded. A part that fails does not end the whole early: the
    others' progress stays to be seen."""
    if not all(part.is_terminal for part in parts):
        started = any(part is not Status.PENDING and part is not Status.WAITING for part in parts)
        return Status.IN_PROGRESS if started else Status.PENDING
    if Status.ERROR in parts:
        return Status.ERROR
    if Status.CANCELLED in parts:
        return Status.CANCELLED
    return Status.SUCCESS


def would_move(work: Any, target: Status) -> bool:
    """Whether `transition` would move work whose row this transaction holds (`lock`): its
    status is then the stored one, and nothing needs asking the database."""
    return bool(work.state in sources(target))


class WorkState:
    """Columns every kind of work shares, and what a kind does when its work moves."""

    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Where a summary of the ending is POSTed, signed (DESIGN 9); given through the API.
    callback_url: Mapped[str | None] = mapped_column(Text)
    # What the kind is called in callbacks, and the column a callback names its work by.
    work_kind: ClassVar[str] = "work"

    @property
    def state(self) -> Status:
        return Status(self.status)

    def touch(self) -> None:
        self.updated_at = utcnow()

    @property
    def fraction_done(self) -> float:
        """How far along, from 0 to 1; each kind counts in its own way."""
        return 1.0 if self.state is Status.SUCCESS else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the pace so far, once there is a pace to go by."""
        fraction = self.fraction_done
        if self.state.is_terminal or self.started_at is None or not 0 < fraction < 1:
            return None
        elapsed = (utcnow() - self.started_at).total_seconds()
        return max(0.0, elapsed * (1 - fraction) / fraction)

    def callback_counts(self) -> dict[str, int | None]:
        """What a callback reports of the work's progress: each kind counts its own units."""
        return {}

    def callback_links(self) -> dict[str, str]:
        """Where the ended work is seen: its page and its API address."""
        return {}

    def record_move(self, target: Status, text: str, cause: Any) -> None:
        """Inside the move's transaction: what this kind keeps of it (its event history)."""

    def announce_move(self, target: Status) -> None:
        """After the move is committed: tell the pages, queue what follows an ending."""


def claim(
    model: type[Any], ident: Any, states: list[Status], lease_seconds: float, *where: Any
) -> bool:
    """Take the work for a while with one conditional UPDATE, so that two jobs never run it at
    once; a lease older than `lease_seconds` belonged to a worker that died, and is taken over."""
    return take_lease(
        model, ident, lease_seconds, model.status.in_([s.value for s in states]), *where
    )


def lock(model: type[Any], ident: Any) -> Any:
    """Load a row and hold it until the transaction ends, so that its work is applied alone.

    PostgreSQL takes a row lock; SQLite has none, so a write comes first: it takes the
    database's write lock, which a read snapshot could not upgrade to later.
    """
    key = inspect(model).primary_key[0]
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(model).where(key == ident).values({key.name: key}),
            execution_options={"synchronize_session": False},
        )
    row = db.session.scalar(
        select(model)
        .where(key == ident)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is not None:
        db.session.info.setdefault(_LOCKED, set()).add((model, ident))
    return row


@event.listens_for(Session, "after_transaction_end")
def _unlocked(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)


def transition(
    work: WorkState,
    target: Status,
    message: str | None = None,
    *,
    error: str | None = None,
    values: Mapping[str, Any] | None = None,
    cause: Any = None,
) -> bool:
    """Move `work` to `target` if it is in a status that may lead there; say whether it moved.

    One conditional UPDATE decides. It commits the session's pending work with it (results
    stored before an ending end with it); on a move the kind records the event in the same
    transaction, then publishes the change and queues what follows an ending. `values` are
    columns set only if the work moves (the tracking id of an accepted launch).
    """
    session = db.session
    model = type(work)
    ident = inspect(work).identity
    assert ident is not None, "only stored work moves"
    if (model, ident[0]) in session.info.get(_LOCKED, ()) and not would_move(work, target):
        session.commit()
        return False
    # Read before the commit below expires it: read after, it would cost a query of its own.
    callback_url = work.callback_url
    if (
        session.get_bind().dialect.name == "sqlite"
        and not session.info.get(_LOCKED)
        and not (session.new or session.dirty or session.deleted)
    ):
        # A fresh transaction: on SQLite an old read snapshot cannot take the write lock
        # (elsewhere the conditional UPDATE reads the row as last committed anyway).
        session.commit()
    key = inspect(model).primary_key[0]
    now = utcnow()
    changes: dict[str, Any] = {"status": target.value, "updated_at": now, **(values or {})}
    if target is Status.RETRYING:
        changes["attempts"] = model.attempts + 1
    if target in {Status.STARTED, Status.IN_PROGRESS}:
        changes["started_at"] = func.coalesce(model.started_at, now)
    if target.is_terminal:
        changes["finished_at"] = now
    text = message or ""
    if target is Status.ERROR:
        text = (error or "").strip() or UNKNOWN_FAILURE
        changes.update(error=text, message="")
    elif message is not None:
        changes["message"] = message
    session.flush()
    result = session.execute(
        update(model)
        .where(key == ident[0], model.status.in_([s.value for s in sources(target)]))
        .values(changes),
        execution_options={"synchronize_session": False},
    )
    moved = bool(getattr(result, "rowcount", 0))
    if moved:
        work.record_move(target, text, cause)
        if target.is_terminal and callback_url:
            record_callback(work, target, text)
    session.commit()
    if moved:
        work.announce_move(target)
        if target.is_terminal and callback_url:
            queue_callbacks(work)
    return moved
