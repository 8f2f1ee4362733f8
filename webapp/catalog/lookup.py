"""Find catalogue objects by ref, answering 404 for anything that does not match exactly."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import joinedload

from webapp.catalog.models import Digitization, Page, Witness
from webapp.catalog.refs import Ref, named_documents, parse_page_ref, parse_ref
from webapp.extensions import db


def ref_matches(digitization: Digitization | None, ref: Ref) -> bool:
    return (
        digitization is not None
        and digitization.witness_id == ref.witness_id
        and digitization.source == ref.source
    )


def digitization_or_404(text: str) -> Digitization:
    ref = parse_ref(text)
    if ref is None or ref.digitization_id is None or ref.anno_id is not None:
        abort(404)
    digitization = db.session.get(Digitization, ref.digitization_id)
    if digitization is None or not ref_matches(digitization, ref):
        abort(404)
    return digitization


def page_or_404(text: str) -> Page:
    parsed = parse_page_ref(text)
    if parsed is None:
        abort(404)
    ref, order = parsed
    page = db.session.scalar(
        select(Page)
        .options(joinedload(Page.digitization))
        .where(Page.digitization_id == ref.digitization_id, Page.order == order)
    )
    if page is None or not ref_matches(page.digitization, ref):
        abort(404)
    return page


def matching(model: Any, searched: tuple[Any, ...], query: str) -> ColumnElement[bool]:
    """Entries whose searched columns hold the query, or, for witnesses and digitizations, that
    the query names by ref (a page's or a crop's ref names its digitization)."""
    clauses = [column.ilike(f"%{query}%") for column in searched]
    named = named_documents(query)
    if named is not None and model in (Witness, Digitization):
        witness_id, digitization_id = named
        if model is Witness:
            clause = Witness.id == witness_id
            if digitization_id is not None:
                clause &= Witness.digitizations.any(Digitization.id == digitization_id)
        else:
            clause = Digitization.witness_id == witness_id
            if digitization_id is not None:
                clause &= Digitization.id == digitization_id
        clauses.append(clause)
    return or_(*clauses)
