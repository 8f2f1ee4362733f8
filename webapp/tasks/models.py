"""A background task: one run of a task class with its inputs, its progress, messages and
artifacts; a container task's state is its children's (DESIGN 3 and 9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import JSON, ForeignKey, String, Text, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.columns import UTCDateTime, new_uuid, utcnow
from webapp.extensions import Base, db
from webapp.lifecycle import Status, WorkState
from webapp.urls import external_url

ARTIFACT_KINDS = ("file", "url", "text")


class Task(WorkState, Base):
    __tablename__ = "tasks"
    work_kind = "task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(80), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Progress as the task counts it: `current` of `target` (no target: not known yet).
    target: Mapped[int | None]
    current: Mapped[int] = mapped_column(default=0)
    # What the task is doing now, in its own words ("Copying 12 images").
    sub_state: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once the task's run has started all its children: from then on its state is theirs.
    container: Mapped[bool] = mapped_column(default=False)

    owner: Mapped[User] = relationship()
    parent: Mapped[Task | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Task]] = relationship(
        back_populates="parent",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Task.requested_at",
    )
    events: Mapped[list[TaskEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TaskEvent.id"
    )
    artifacts: Mapped[list[TaskArtifact]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TaskArtifact.id"
    )

    @property
    def fraction_done(self) -> float:
        if self.state is Status.SUCCESS:
            return 1.0
        if not self.target:
            return 0.0
        return max(0.0, min(1.0, self.current / self.target))

    @property
    def progress_text(self) -> str:
        if self.target is None:
            return str(gettext("%(done)s done", done=self.current))
        return str(
            gettext("%(done)s of %(total)s", done=min(self.current, self.target), total=self.target)
        )

    @property
    def stored_id(self) -> str:
        """The id, read without loading the row again once a commit has expired it."""
        identity = inspect(self).identity
        return str(identity[0]) if identity else self.id

    def visible_to(self, user: Any) -> bool:
        return bool(user.is_admin or self.owner_id == user.id)

    def callback_counts(self) -> dict[str, int | None]:
        return {"current": self.current, "target": self.target}

    def callback_links(self) -> dict[str, str]:
        return {
            "page": external_url("tasks.detail", task_id=self.stored_id),
            "api": external_url("api_tasks.get", task_id=self.stored_id),
        }

    def record_move(self, target: Status, text: str, cause: Any) -> None:
        said = f"→ {target.recorded_label}" + (f": {text}" if text else "")
        db.session.add(
            TaskEvent(task_id=self.stored_id, kind="move", event=target.value, text=said)
        )

    def announce_move(self, target: Status) -> None:
        from webapp.tasks.service import moved

        moved(self, target)


class TaskEvent(Base):
    """The history of a task: each move of its status, and each message it wrote."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="message")
    event: Mapped[str] = mapped_column(String(30), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskArtifact(Base):
    """What a task made for its user: a file (kept under the storage folder), a URL or a text."""

    __tablename__ = "task_artifacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100), default="")
    # A file's path, relative to the storage folder; a URL; or the text itself.
    path: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
