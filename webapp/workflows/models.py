"""Workflows: reusable definitions (a graph of steps, each a task with its parameters and the
inputs it takes from earlier steps) and their runs, whose steps are treatments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.columns import CreatedAt, UTCDateTime, new_uuid, utcnow
from webapp.extensions import Base, db
from webapp.lifecycle import Status, WorkState
from webapp.sharing import editable, visible
from webapp.treatments.models import Treatment
from webapp.urls import external_url

definition_shares = Table(
    "workflow_definition_shares",
    db.metadata,
    Column(
        "definition_id",
        ForeignKey("workflow_definitions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class WorkflowDefinition(CreatedAt, Base):
    """A user's own definition, private, shared or public like a document set."""

    __tablename__ = "workflow_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    # [{"name", "task", "parameters", "inputs": {parameter: earlier step}}], checked on save.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    owner: Mapped[User] = relationship()
    shared_with: Mapped[list[User]] = relationship(secondary=definition_shares, order_by=User.email)

    def visible_to(self, user: User) -> bool:
        return visible(self, user)

    def editable_by(self, user: User) -> bool:
        return editable(self, user)


class Workflow(WorkState, Base):
    """One run of a definition on a document set; its state is its steps' (DESIGN 3)."""

    __tablename__ = "workflows"
    work_kind = "workflow"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The definition as it was when run: a later edit changes no run, a relaunch repeats it.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    document_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_sets.id", ondelete="SET NULL"), index=True
    )
    document_set_title: Mapped[str] = mapped_column(String(200), default="")
    relaunch_of_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="SET NULL")
    )

    owner: Mapped[User] = relationship()
    treatments: Mapped[list[Treatment]] = relationship(
        order_by=Treatment.requested_at, passive_deletes=True
    )
    events: Mapped[list[WorkflowEvent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="WorkflowEvent.id"
    )

    def step_treatments(self) -> dict[str, Treatment]:
        return {t.workflow_step: t for t in self.treatments}

    @property
    def fraction_done(self) -> float:
        """The mean of the steps' progress: a step still waiting for its inputs counts 0."""
        if self.state is Status.SUCCESS:
            return 1.0
        steps = self.treatments
        return sum(t.fraction_done for t in steps) / len(steps) if steps else 0.0

    def visible_to(self, user: User) -> bool:
        return user.is_admin or self.owner_id == user.id

    def callback_counts(self) -> dict[str, int | None]:
        states = [t.state for t in self.treatments]
        return {
            "steps": len(states),
            "succeeded": states.count(Status.SUCCESS),
            "failed": states.count(Status.ERROR),
            "cancelled": states.count(Status.CANCELLED),
        }

    def callback_links(self) -> dict[str, str]:
        return {
            "page": external_url("workflows.detail", workflow_id=self.id),
            "api": external_url("api_workflows.get", workflow_id=self.id),
        }

    def record_move(self, target: Status, text: str, cause: Any) -> None:
        said = f"→ {target.recorded_label}" + (f": {text}" if text else "")
        db.session.add(WorkflowEvent(workflow_id=self.id, event=target.value, text=said))

    def announce_move(self, target: Status) -> None:
        from webapp.live.publish import publish_workflow

        publish_workflow(self.id, self.owner_id)


class WorkflowEvent(Base):
    """The history of a workflow: each move of its status."""

    __tablename__ = "workflow_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(30), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
