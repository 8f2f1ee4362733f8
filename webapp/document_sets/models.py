"""Document sets: owned selections of catalogue documents, expanded into witnesses."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    ForeignKey,
    Select,
    String,
    Table,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Series, Witness, Work, witness_works
from webapp.columns import CreatedAt
from webapp.extensions import Base, db
from webapp.sharing import editable, visible


def _member_table(name: str, target: str, table: str = "") -> Table:
    return Table(
        table or f"document_set_{name}",
        db.metadata,
        Column(
            "document_set_id", ForeignKey("document_sets.id", ondelete="CASCADE"), primary_key=True
        ),
        Column(f"{target}_id", ForeignKey(f"{name}.id", ondelete="CASCADE"), primary_key=True),
    )


set_witnesses = _member_table("witnesses", "witness")
set_series = _member_table("series", "series")
set_works = _member_table("works", "work")
set_digitizations = _member_table("digitizations", "digitization")
set_shares = _member_table("users", "user", "document_set_shares")


class DocumentSet(CreatedAt, Base):
    __tablename__ = "document_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[str] = mapped_column(String(10), default="private")

    owner: Mapped[User] = relationship()
    witnesses: Mapped[list[Witness]] = relationship(
        secondary=set_witnesses, order_by=Witness.siglum
    )
    series: Mapped[list[Series]] = relationship(secondary=set_series, order_by=Series.title)
    works: Mapped[list[Work]] = relationship(secondary=set_works, order_by=Work.title)
    digitizations: Mapped[list[Digitization]] = relationship(
        secondary=set_digitizations, order_by=Digitization.id
    )
    shared_with: Mapped[list[User]] = relationship(secondary=set_shares, order_by=User.email)

    def visible_to(self, user: User) -> bool:
        return visible(self, user)

    def editable_by(self, user: User) -> bool:
        return editable(self, user)

    def _whole_witness_ids(self) -> CompoundSelect[tuple[int]]:
        """Witnesses included with all their digitizations: named, or through series or works."""
        sid = self.id
        return union(
            select(set_witnesses.c.witness_id).where(set_witnesses.c.document_set_id == sid),
            select(Witness.id)
            .join(set_series, set_series.c.series_id == Witness.series_id)
            .where(set_series.c.document_set_id == sid),
            select(witness_works.c.witness_id)
            .join(set_works, set_works.c.work_id == witness_works.c.work_id)
            .where(set_works.c.document_set_id == sid),
        )

    def _named_digitization_ids(self) -> Select[tuple[int]]:
        return select(set_digitizations.c.digitization_id).where(
            set_digitizations.c.document_set_id == self.id
        )

    def _digitizations_filter(self) -> ColumnElement[bool]:
        return or_(
            Digitization.witness_id.in_(self._whole_witness_ids()),
            Digitization.id.in_(self._named_digitization_ids()),
        )

    def all_witnesses(self) -> list[Witness]:
        """Witnesses named directly or through series, works and digitizations, once each."""
        of_digitizations = select(Digitization.witness_id).where(
            Digitization.id.in_(self._named_digitization_ids())
        )
        stmt = (
            select(Witness)
            .where(or_(Witness.id.in_(self._whole_witness_ids()), Witness.id.in_(of_digitizations)))
            .order_by(Witness.siglum)
        )
        return list(db.session.scalars(stmt))

    def all_digitizations(self, with_pages: bool = False) -> list[Digitization]:
        stmt = select(Digitization).where(self._digitizations_filter()).order_by(Digitization.id)
        if with_pages:
            stmt = stmt.where(Digitization.pages.any())
        return list(db.session.scalars(stmt))

    def page_count(self) -> int:
        stmt = (
            select(func.count(Page.id))
            .join(Digitization, Page.digitization_id == Digitization.id)
            .where(self._digitizations_filter())
        )
        return db.session.scalar(stmt) or 0

    @staticmethod
    def digitization_counts(set_ids: list[int]) -> dict[int, int]:
        """How many digitizations each set holds, by any path, in one query for many sets."""
        whole = (
            select(set_witnesses.c.document_set_id.label("set_id"), Digitization.id.label("d"))
            .join(Digitization, Digitization.witness_id == set_witnesses.c.witness_id)
            .where(set_witnesses.c.document_set_id.in_(set_ids)),
            select(set_series.c.document_set_id, Digitization.id)
            .join(Witness, Witness.series_id == set_series.c.series_id)
            .join(Digitization, Digitization.witness_id == Witness.id)
            .where(set_series.c.document_set_id.in_(set_ids)),
            select(set_works.c.document_set_id, Digitization.id)
            .join(witness_works, witness_works.c.work_id == set_works.c.work_id)
            .join(Digitization, Digitization.witness_id == witness_works.c.witness_id)
            .where(set_works.c.document_set_id.in_(set_ids)),
            select(set_digitizations.c.document_set_id, set_digitizations.c.digitization_id).where(
                set_digitizations.c.document_set_id.in_(set_ids)
            ),
        )
        # UNION drops the pairs reached by two paths, so each digitization counts once.
        pairs = union(*whole).subquery()
        counted = db.session.execute(select(pairs.c.set_id, func.count()).group_by(pairs.c.set_id))
        return dict.fromkeys(set_ids, 0) | {row[0]: row[1] for row in counted}

    def member_count(self) -> int:
        return len(self.witnesses) + len(self.series) + len(self.works) + len(self.digitizations)
