"""A treatment: one launch of one task on one document set, and the events received for it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext
from sqlalchemy import JSON, Connection, ForeignKey, String, Text, UniqueConstraint, event, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.columns import UTCDateTime, new_uuid, utcnow
from webapp.document_sets.models import DocumentSet
from webapp.extensions import Base, db
from webapp.lifecycle import Status, WorkState
from webapp.urls import external_url

if TYPE_CHECKING:
    from webapp.task_modules.base import TaskModule


class Treatment(WorkState, Base):
    __tablename__ = "treatments"
    work_kind = "treatment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    task_type: Mapped[str] = mapped_column(String(50), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_sets.id", ondelete="SET NULL"), index=True
    )
    document_set_title: Mapped[str] = mapped_column(String(200), default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The documents exactly as sent to the API, fixed at creation: a relaunch sends them again.
    documents: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    tracking_id: Mapped[str | None] = mapped_column(String(200), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Given its place by the fair share (fair_share.py): only then is its launch queued.
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The pages its documents hold, counted at its creation: what it takes of a page quota.
    pages: Mapped[int] = mapped_column(default=0, server_default="0")
    done_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    api_current: Mapped[int | None]
    api_total: Mapped[int | None]
    document_errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    notify_email: Mapped[bool] = mapped_column(default=False)
    # Reaper checks in a row that found the API without news of this run, and since when.
    lost_checks: Mapped[int] = mapped_column(default=0)
    lost_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    relaunch_of_id: Mapped[str | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="SET NULL")
    )
    # A run on the documents another one failed on: its results count as that one's too.
    retry_of_id: Mapped[str | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="SET NULL"), index=True
    )
    # A workflow step that flows document by document runs as parts, each a treatment of its
    # own launched once its documents' inputs are stored; the step itself is never launched.
    part_of_id: Mapped[str | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), index=True
    )
    container: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # A step of a workflow: the workflow, and the step's name in its definition.
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), index=True
    )
    workflow_step: Mapped[str] = mapped_column(String(80), default="", server_default="")

    owner: Mapped[User] = relationship()
    document_set: Mapped[DocumentSet | None] = relationship()
    relaunch_of: Mapped[Treatment | None] = relationship(
        remote_side=[id], foreign_keys=[relaunch_of_id]
    )
    events: Mapped[list[TreatmentEvent]] = relationship(
        back_populates="treatment",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TreatmentEvent.id",
    )

    def _counted_in(self) -> TaskModule | type[TaskModule]:
        """The module whose unit the progress is counted in; a module no longer installed
        counts documents."""
        from webapp.task_modules.base import TaskModule
        from webapp.task_modules.registry import task_modules

        return task_modules().get(self.task_type) or TaskModule

    @property
    def timeline_label(self) -> str:
        return f"{self.task_type} · {self.document_set_title}"

    @property
    def units_total(self) -> int:
        """Results awaited, in the task's unit: documents, or pairs of them for similarity."""
        return self._counted_in().units_total(len(self.documents))

    @property
    def units_done(self) -> int:
        return min(len(self.done_documents), self.units_total)

    @property
    def unit(self) -> str:
        """What progress is counted in: documents, or pairs."""
        return self._counted_in().unit[1]

    @property
    def progress_text(self) -> str:
        """Progress as said everywhere it is shown: "12 of 21 pairs"."""
        singular, plural = self._counted_in().unit
        total = self.units_total
        unit = gettext(singular if total == 1 else plural)
        return str(
            gettext("%(done)s of %(total)s %(unit)s", done=self.units_done, total=total, unit=unit)
        )

    @property
    def fraction_done(self) -> float:
        """How far along: results stored, or the API's own count when it says more."""
        fractions = [self.units_done / self.units_total] if self.units_total else []
        if self.api_total:
            fractions.append(min(1.0, (self.api_current or 0) / self.api_total))
        return max(fractions, default=0.0)

    @property
    def document_uids(self) -> list[str]:
        return [document["uid"] for document in self.documents]

    @property
    def result_ids(self) -> list[str]:
        """The treatments whose results are this one's: itself, its parts and its retries
        (and theirs)."""
        ids, frontier = [self.id], [self.id]
        while frontier:
            frontier = list(
                db.session.scalars(
                    select(Treatment.id).where(
                        Treatment.retry_of_id.in_(frontier) | Treatment.part_of_id.in_(frontier)
                    )
                )
            )
            ids += frontier
        return ids

    def parts(self) -> list[Treatment]:
        return list(
            db.session.scalars(
                select(Treatment)
                .where(Treatment.part_of_id == self.id)
                .order_by(Treatment.requested_at, Treatment.id)
                .execution_options(populate_existing=True)
            )
        )

    def another_run(self, documents: list[dict[str, str]], **values: Any) -> Treatment:
        """A new treatment of this one's task, owner, set and parameters, on these documents."""
        return Treatment(
            task_type=self.task_type,
            owner_id=self.owner_id,
            document_set_id=self.document_set_id,
            document_set_title=self.document_set_title,
            parameters=dict(self.parameters),
            documents=list(documents),
            **values,
        )

    def retries(self) -> list[Treatment]:
        return list(
            db.session.scalars(
                select(Treatment)
                .where(Treatment.retry_of_id == self.id)
                .order_by(Treatment.requested_at)
            )
        )

    @property
    def failed_documents(self) -> list[dict[str, str]]:
        """The documents an ended run has no results for, once it ended with errors on some."""
        if not self.state.is_terminal or not (self.document_errors or self.status == "ERROR"):
            return []
        return self._counted_in().failed_documents(self.documents, self.done_documents)

    def visible_to(self, user: User) -> bool:
        return user.is_admin or self.owner_id == user.id

    def callback_counts(self) -> dict[str, int | None]:
        return {
            "documents": len(self.documents),
            "done": self.units_done,
            "total": self.units_total,
            "failed_documents": len(self.document_errors),
        }

    def callback_links(self) -> dict[str, str]:
        return {
            "page": external_url("treatments.detail", treatment_id=self.id),
            "api": external_url("api_treatments.get", treatment_id=self.id),
        }

    def record_move(self, target: Status, text: str, cause: Any) -> None:
        from webapp.treatments.history import record_move

        record_move(self, target, text, cause)

    def announce_move(self, target: Status) -> None:
        from webapp.treatments.history import announce_move

        announce_move(self, target)


@event.listens_for(Treatment, "before_insert")
def _count_pages(_mapper: Any, connection: Connection, treatment: Treatment) -> None:
    """What it takes of its owner's page quota, fixed when it is made."""
    from webapp.quotas.pages import count_pages

    if not treatment.container:
        treatment.pages = count_pages(connection, treatment.documents or [])


class TreatmentEvent(Base):
    """The history of a treatment: each notification received from the processing API, kept as
    it came (`notification`), and each move of its status not caused by one (`move`)."""

    __tablename__ = "treatment_events"
    # The unique index also serves lookups by treatment: a second index on treatment_id alone
    # would only cost each notification one more index update.
    __table_args__ = (UniqueConstraint("treatment_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(12), default="notification")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(Text, default="")

    treatment: Mapped[Treatment] = relationship(back_populates="events")
