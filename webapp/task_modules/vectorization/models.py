from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Base


class Vectorization(Base):
    """The SVG of one crop's strokes."""

    __tablename__ = "vectorizations"
    __table_args__ = (UniqueConstraint("treatment_id", "crop_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique index serves lookups by treatment: no second index for ingest to update.
    treatment_id: Mapped[str] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    crop_id: Mapped[str] = mapped_column(String(300))
    svg: Mapped[str] = mapped_column(Text)
