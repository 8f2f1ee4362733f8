from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import Base
from webapp.i18n import N_


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


# What a researcher says of a pair, from the strongest to none.
MARKS = {
    "exact": N_("Exact match"),
    "partial": N_("Partial match"),
    "similar": N_("Similar"),
    "no": N_("No match"),
}
# The marks that say two crops show the same figure, so that they belong to one cluster.
ALIKE = ("exact", "partial", "similar")


class PairMark(Base):
    """One researcher's mark on a pair of crops of a treatment, `a` sorting before `b`; the
    pair need not be among the machine's (a match proposed by transitivity)."""

    __tablename__ = "pair_marks"
    __table_args__ = (UniqueConstraint("treatment_id", "a", "b", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    a: Mapped[str] = mapped_column(String(300))
    b: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mark: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
