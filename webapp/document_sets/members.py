"""Adding and removing documents of any kind to and from a set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from webapp.catalog.models import Digitization, Series, Witness, Work
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db

SEARCH_LIMIT = 10


@dataclass(frozen=True)
class MemberKind:
    model: Any
    attribute: str
    label: str
    plural: str


MEMBER_KINDS = {
    "witness": MemberKind(Witness, "witnesses", "Witness", "Witnesses"),
    "series": MemberKind(Series, "series", "Series", "Series"),
    "work": MemberKind(Work, "works", "Work", "Works"),
    "digitization": MemberKind(Digitization, "digitizations", "Digitization", "Digitizations"),
}


def _member_kind(kind: str) -> MemberKind:
    if kind not in MEMBER_KINDS:
        raise UserError(f"Unknown kind of document: {kind!r}.")
    return MEMBER_KINDS[kind]


def add_member(document_set: DocumentSet, kind: str, member_id: int) -> Any:
    spec = _member_kind(kind)
    member = db.session.get(spec.model, member_id)
    if member is None:
        raise UserError(f"No {spec.label.lower()} with id {member_id}.")
    members = getattr(document_set, spec.attribute)
    if member not in members:
        members.append(member)
    db.session.commit()
    return member


def remove_member(document_set: DocumentSet, kind: str, member_id: int) -> None:
    spec = _member_kind(kind)
    members = getattr(document_set, spec.attribute)
    setattr(document_set, spec.attribute, [m for m in members if m.id != member_id])
    db.session.commit()


def search_documents(query: str) -> list[tuple[str, Any]]:
    """Catalogue documents matching the query, a few of each kind, for the builder's search box."""
    pattern = f"%{query}%"
    found: list[tuple[str, Any]] = []
    found += [
        ("witness", w)
        for w in db.session.scalars(
            select(Witness)
            .where(or_(Witness.siglum.ilike(pattern), Witness.place.ilike(pattern)))
            .order_by(Witness.siglum)
            .limit(SEARCH_LIMIT)
        )
    ]
    found += [
        ("series", s)
        for s in db.session.scalars(
            select(Series)
            .where(Series.title.ilike(pattern))
            .order_by(Series.title)
            .limit(SEARCH_LIMIT)
        )
    ]
    found += [
        ("work", w)
        for w in db.session.scalars(
            select(Work)
            .where(or_(Work.title.ilike(pattern), Work.author.ilike(pattern)))
            .order_by(Work.title)
            .limit(SEARCH_LIMIT)
        )
    ]
    found += [
        ("digitization", d)
        for d in db.session.scalars(
            select(Digitization)
            .join(Witness)
            .where(or_(Digitization.label.ilike(pattern), Witness.siglum.ilike(pattern)))
            .order_by(Digitization.id)
            .limit(SEARCH_LIMIT)
        )
    ]
    return found
