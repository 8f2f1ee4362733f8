"""A flow's journal (what it is, how far it went, what undoing it needs) and its locks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.columns import UTCDateTime, new_uuid, utcnow
from webapp.extensions import Base


class Phase(StrEnum):
    # Steps outside the database are done one by one, each journaled as it starts.
    RUNNING = "running"
    # The database's changes are committed, with this phase: only the finish is left.
    COMMITTED = "committed"
    DONE = "done"
    UNDONE = "undone"

    @property
    def is_over(self) -> bool:
        return self in {Phase.DONE, Phase.UNDONE}


class FlowRecord(Base):
    __tablename__ = "flows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(80), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    mode: Mapped[str] = mapped_column(String(5), default="sync")
    force_fail: Mapped[bool] = mapped_column(default=False)
    # The task that runs an async flow: what its user follows.
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )
    phase: Mapped[str] = mapped_column(String(10), default=Phase.RUNNING, index=True)
    # Each step outside the database as it started: [{"step": name, "done": bool}].
    journal: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the steps pass on to later ones and to their undo (folders moved aside, ids made).
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    # Renewed at each step: a flow silent longer than its lease died with its worker.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    locks: Mapped[list[FlowLock]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @property
    def state_of_phase(self) -> Phase:
        return Phase(self.phase)


class FlowLock(Base):
    """An object a running flow changes: its key is unique, so a second flow cannot take it
    until the first has ended (or been undone by the clock)."""

    __tablename__ = "flow_locks"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
