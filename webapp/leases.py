"""Leases on rows: a job takes a row for a while with one conditional UPDATE of its
`claimed_at`, so that two jobs never do its work at once; a lease older than its length
belonged to a worker that died, and is taken over."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, inspect, or_, update

from webapp.columns import utcnow
from webapp.extensions import db


def lease_free(model: type[Any], lease_seconds: float) -> ColumnElement[bool]:
    """Rows no job holds: never taken, or taken longer ago than the lease."""
    return or_(
        model.claimed_at.is_(None),
        model.claimed_at < utcnow() - timedelta(seconds=lease_seconds),
    )


def take_lease(model: type[Any], ident: Any, lease_seconds: float, *where: Any) -> bool:
    """Take the row of that key if it also matches `where` and no job holds it; commits."""
    key = inspect(model).primary_key[0]
    result = db.session.execute(
        update(model)
        .where(key == ident, *where, lease_free(model, lease_seconds))
        .values(claimed_at=utcnow())
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))
