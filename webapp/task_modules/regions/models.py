"""Regions found by treatments: a set per treatment and digitization, boxes on pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.catalog.models import Digitization, Page
from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import Base


class RegionSet(Base):
    """The regions one treatment found on one digitization: `<digitization ref>_anno<id>`."""

    __tablename__ = "region_sets"
    __table_args__ = (UniqueConstraint("treatment_id", "digitization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), index=True
    )
    digitization_id: Mapped[int] = mapped_column(
        ForeignKey("digitizations.id", ondelete="CASCADE"), index=True
    )

    digitization: Mapped[Digitization] = relationship()
    regions: Mapped[list[Region]] = relationship(
        back_populates="region_set",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(Region.page_id, Region.y, Region.x)",
    )

    @property
    def ref(self) -> str:
        return f"{self.digitization.ref}_anno{self.id}"


class Region(Base):
    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("region_set_id", "page_id", "x", "y", "w", "h"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique index serves lookups by set: no second index for ingest to update.
    region_set_id: Mapped[int] = mapped_column(ForeignKey("region_sets.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    x: Mapped[int]
    y: Mapped[int]
    w: Mapped[int]
    h: Mapped[int]
    confidence: Mapped[float] = mapped_column(default=0.0)
    label: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")

    region_set: Mapped[RegionSet] = relationship(back_populates="regions")
    page: Mapped[Page] = relationship()

    @property
    def crop_id(self) -> str:
        return f"{self.page.ref}_{self.x},{self.y},{self.w},{self.h}"


class RegionCorrection(Base):
    """A researcher's correction of a region set, kept apart from the machine's output, which
    stays as it came: a machine region deleted (`deleted`) or adjusted (its new box), or a
    region drawn (no `region_id`). Removing the corrections gives the machine's output back."""

    __tablename__ = "region_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_set_id: Mapped[int] = mapped_column(
        ForeignKey("region_sets.id", ondelete="CASCADE"), index=True
    )
    # A machine region has at most one correction: the latest box, or its deletion.
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), unique=True
    )
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    x: Mapped[int] = mapped_column(default=0)
    y: Mapped[int] = mapped_column(default=0)
    w: Mapped[int] = mapped_column(default=0)
    h: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(100), default="")
    deleted: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    page: Mapped[Page] = relationship()
