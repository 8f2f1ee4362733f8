"""The one lifecycle of all user-visible work (DESIGN 3): statuses, moves, progress, timestamps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.columns import UTCDateTime, utcnow


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
        return _LABELS[self]

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


_LABELS = {
    Status.PENDING: "Queued",
    Status.STARTED: "Started",
    Status.IN_PROGRESS: "In progress",
    Status.RETRYING: "Retrying",
    Status.WAITING: "Waiting",
    Status.SUCCESS: "Succeeded",
    Status.ERROR: "Failed",
    Status.CANCELLED: "Cancelled",
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


class WorkState:
    """Columns and rules every kind of work shares; models mix it in."""

    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def state(self) -> Status:
        return Status(self.status)

    def can_move_to(self, target: Status) -> bool:
        current = self.state
        if current.is_terminal:
            return False
        if target is Status.RETRYING:
            return current in {Status.PENDING, Status.RETRYING}
        return _RANK[target] >= _RANK[current]

    def move_to(self, target: Status, message: str | None = None) -> bool:
        """Apply a move if the lifecycle allows it; refused moves change nothing."""
        if not self.can_move_to(target):
            return False
        now = utcnow()
        if target is Status.RETRYING:
            self.attempts += 1
        if target in {Status.STARTED, Status.IN_PROGRESS} and self.started_at is None:
            self.started_at = now
        if target.is_terminal:
            self.finished_at = now
        self.status = target
        self.updated_at = now
        if message is not None:
            self.message = message
        return True

    def fail(self, error: str) -> bool:
        """End in ERROR with a message a person can read."""
        if not self.move_to(Status.ERROR, message=""):
            return False
        self.error = error.strip() or "The work failed for an unknown reason."
        return True

    def touch(self) -> None:
        self.updated_at = utcnow()
