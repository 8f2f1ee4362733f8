"""Creating, renaming and deleting document sets, for the pages and the API alike, each noted
on the timeline."""

from __future__ import annotations

from typing import Any

from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.timeline.record import record


def create_set(owner: Any, title: str) -> DocumentSet:
    """A new, empty, private set of the owner's."""
    document_set = DocumentSet(title=title, owner_id=owner.id)
    db.session.add(document_set)
    record("set.create", document_set, actor=owner)
    db.session.commit()
    return document_set


def rename_set(document_set: DocumentSet, title: str) -> None:
    record("set.rename", document_set, details={"from": document_set.title, "to": title})
    document_set.title = title
    db.session.commit()


def delete_set(document_set: DocumentSet) -> None:
    """The set; its treatments stay, with the set's title."""
    record("set.delete", document_set)
    db.session.delete(document_set)
    db.session.commit()
