"""Adding and removing documents of any kind to and from a set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.catalog.lookup import matching
from webapp.catalog.models import Digitization, Series, Witness, Work
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.timeline.record import record

SEARCH_LIMIT = 10


@dataclass(frozen=True)
class MemberKind:
    model: Any
    attribute: str
    label: str
    plural: str
    searched: tuple[Any, ...]


MEMBER_KINDS = {
    "witness": MemberKind(
        Witness, "witnesses", N_("Witness"), N_("Witnesses"), (Witness.siglum, Witness.place)
    ),
    "series": MemberKind(Series, "series", N_("Series"), N_("Series"), (Series.title,)),
    "work": MemberKind(Work, "works", N_("Work"), N_("Works"), (Work.title, Work.author)),
    "digitization": MemberKind(
        Digitization,
        "digitizations",
        N_("Digitization"),
        N_("Digitizations"),
        (Witness.siglum, Digitization.label),
    ),
}


def _member_kind(kind: str) -> MemberKind:
    if kind not in MEMBER_KINDS:
        raise UserError(_("Unknown kind of document: %(kind)s.", kind=repr(kind)))
    return MEMBER_KINDS[kind]


def add_member(document_set: DocumentSet, kind: str, member_id: int) -> Any:
    spec = _member_kind(kind)
    member = db.session.get(spec.model, member_id)
    if member is None:
        raise UserError(
            _("No %(kind)s with id %(member_id)s.", kind=_(spec.label).lower(), member_id=member_id)
        )
    members = getattr(document_set, spec.attribute)
    if member not in members:
        members.append(member)
        record("set.add", document_set, details={"kind": kind, "id": member_id})
    db.session.commit()
    return member


def remove_member(document_set: DocumentSet, kind: str, member_id: int) -> None:
    spec = _member_kind(kind)
    members = getattr(document_set, spec.attribute)
    kept = [m for m in members if m.id != member_id]
    if len(kept) < len(members):
        record("set.remove", document_set, details={"kind": kind, "id": member_id})
    setattr(document_set, spec.attribute, kept)
    db.session.commit()


def search_documents(query: str) -> list[tuple[str, Any]]:
    """Catalogue documents matching the query, a few of each kind, for the builder's search box."""
    found: list[tuple[str, Any]] = []
    for kind, spec in MEMBER_KINDS.items():
        stmt = select(spec.model)
        if spec.model is Digitization:
            stmt = stmt.join(Witness)
        stmt = stmt.where(matching(spec.model, spec.searched, query))
        documents = db.session.scalars(stmt.order_by(spec.searched[0]).limit(SEARCH_LIMIT))
        found += [(kind, document) for document in documents]
    return found
