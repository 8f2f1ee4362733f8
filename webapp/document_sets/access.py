"""Which document sets a user may see and launch treatments on: their own, those shared with
them, the public ones (all, for an administrator). The one rule for pages, forms and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from webapp.document_sets.models import DocumentSet, set_shares
from webapp.extensions import db
from webapp.security import DatabaseInteger


def usable_sets(user: Any, *, members: bool = False) -> list[DocumentSet]:
    """The sets a user may see and launch treatments on, by title; with `members`, their
    owner, shares and members loaded with them, for lists that show them."""
    stmt = select(DocumentSet).order_by(DocumentSet.title)
    if members:
        stmt = stmt.options(
            *(
                selectinload(getattr(DocumentSet, name))
                for name in (
                    "owner",
                    "shared_with",
                    "witnesses",
                    "series",
                    "works",
                    "digitizations",
                )
            )
        )
    if not user.is_admin:
        shared = select(set_shares.c.document_set_id).where(set_shares.c.user_id == user.id)
        stmt = stmt.where(
            or_(
                DocumentSet.owner_id == user.id,
                DocumentSet.visibility == "public",
                (DocumentSet.visibility == "shared") & DocumentSet.id.in_(shared),
            )
        )
    return list(db.session.scalars(stmt))


def usable_set(user: Any, set_id: str | None) -> DocumentSet | None:
    """The set of that id if the user may launch on it (the rule of `usable_sets`)."""
    if not (set_id and set_id.isascii() and set_id.isdigit() and len(set_id) <= 10):
        return None
    if int(set_id) > DatabaseInteger.LARGEST:
        return None
    document_set = db.session.get(DocumentSet, int(set_id))
    return document_set if document_set is not None and document_set.visible_to(user) else None
