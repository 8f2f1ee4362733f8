"""One callback to deliver: the summary of an ending, kept until the receiver accepts it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import Base


class CallbackDelivery(Base):
    """Written in the transaction that ends the work, so an ending always has its callback
    and never two; sent by a job, and again by the clock, with a growing delay, until the
    receiver answers 2xx, refuses it for good, or the retry horizon has passed."""

    __tablename__ = "callback_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The work it reports, one kind per column, so that it goes with its work.
    treatment_id: Mapped[str | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    # The same on every attempt and on a delivery sent again: the receiver dedupes on it.
    webhook_id: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Who asked for it to be sent again, when it is a copy of an earlier one.
    resent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def state(self) -> str:
        """For people: delivered, given up, or waiting (for its first or next attempt)."""
        if self.delivered_at is not None:
            return "delivered"
        if self.given_up_at is not None:
            return "given up"
        return "waiting"
