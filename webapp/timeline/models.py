"""One change, as it was made: kept readable after its actor or its object is gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import Base

OUTCOMES = ("success", "failure")


class TimelineEntry(Base):
    __tablename__ = "timeline"
    __table_args__ = (Index("ix_timeline_object", "object_kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Who, as they were named then: an account deleted since is still named.
    actor: Mapped[str] = mapped_column(String(200), default="")
    actor_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_kind: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    object_label: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(10), default="success")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What administrators must keep (their own actions, accounts' security): never purged.
    kept: Mapped[bool] = mapped_column(default=False)
