"""The processor's own database: its jobs, what each document gave, and the notification outbox.

Times are unix seconds (floats): the same on SQLite and PostgreSQL, with no time zones to lose.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

PENDING, STARTED, SUCCESS, ERROR, CANCELLED = "PENDING", "STARTED", "SUCCESS", "ERROR", "CANCELLED"
FINISHED = {SUCCESS, ERROR, CANCELLED}


def new_id() -> str:
    return uuid.uuid4().hex


class Job(db.Model):  # type: ignore[name-defined]
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("task", "experiment_id"),)

    tracking_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task: Mapped[str] = mapped_column(String(40))
    experiment_id: Mapped[str] = mapped_column(String(200))
    notify_url: Mapped[str] = mapped_column(Text)
    documents: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    rq_job_id: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[float] = mapped_column(default=0.0)
    # Progress inside the document being processed, for the status endpoint.
    images_done: Mapped[int] = mapped_column(default=0)
    images_total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(default=time.time)
    updated_at: Mapped[float] = mapped_column(default=time.time, onupdate=time.time)
    finished_at: Mapped[float | None]

    results: Mapped[list[DocumentResult]] = relationship(
        back_populates="job", order_by="DocumentResult.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class DocumentResult(db.Model):  # type: ignore[name-defined]
    """One document done: its result entries (`doc_id` or `doc_pair`, `result_url`), or why
    it failed, and the errors of single images that did not stop it."""

    __tablename__ = "document_results"
    __table_args__ = (UniqueConstraint("tracking_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(ForeignKey("jobs.tracking_id", ondelete="CASCADE"))
    position: Mapped[int]
    uid: Mapped[str] = mapped_column(Text)
    entries: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    failure: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(back_populates="results")


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """A notification to deliver. The body is kept as the exact bytes to send and sign."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "tracking_id", "delivered_at", "given_up_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)
    tracking_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[float] = mapped_column(default=time.time)
    next_attempt_at: Mapped[float] = mapped_column(default=time.time)
    delivered_at: Mapped[float | None]
    given_up_at: Mapped[float | None]
    last_error: Mapped[str | None] = mapped_column(Text)
