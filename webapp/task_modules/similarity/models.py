from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Base


class SimilarityPair(Base):
    """Two crops (or pages) a treatment found alike; `a` sorts before `b`."""

    __tablename__ = "similarity_pairs"
    __table_args__ = (UniqueConstraint("treatment_id", "a", "b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique index serves lookups by treatment: no second index for ingest to update.
    treatment_id: Mapped[str] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    a: Mapped[str] = mapped_column(String(300))
    b: Mapped[str] = mapped_column(String(300))
    score: Mapped[float]
    algorithm: Mapped[str] = mapped_column(String(100), default="")
    parameter_hash: Mapped[str] = mapped_column(String(64), default="")
