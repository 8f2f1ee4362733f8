"""Shared column helpers for the models of every feature."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, func, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def new_uuid() -> str:
    """A new id for work, as text: no one can guess another's from one's own."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite gives back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def get_or_create(
    model: Any, defaults: dict[str, Any] | None = None, **key: Any
) -> tuple[Any, bool]:
    """Find a row by key, or create it with the defaults; what exists is never changed."""
    from webapp.extensions import db

    entry = db.session.scalar(select(model).filter_by(**key))
    if entry is not None:
        return entry, False
    entry = model(**key, **(defaults or {}))
    db.session.add(entry)
    db.session.flush()
    return entry, True


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
