"""Results by the thousand in a few statements: a similarity run stores 100,000 pairs, and a
row at a time through the ORM's unit of work cost seconds where the database needs less."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.extensions import db

# What a row already stored becomes when the same key comes again, from the stored column
# and the one that came (`excluded`).
Merge = Callable[[ColumnElement[Any], ColumnElement[Any]], ColumnElement[Any]]


def higher(stored: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((new > stored, new), else_=stored)


def newer(stored: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    return new


def put_rows(
    model: Any,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    merge: dict[str, Merge] | None = None,
) -> None:
    """Insert `rows` into `model`'s table in one executemany, in the session's transaction.

    A row whose `key` is already stored is left as it is, or, for the columns in `merge`,
    updated to what their function gives: storing the same result twice changes nothing.
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = insert(table)
    if merge:
        statement = statement.on_conflict_do_update(
            index_elements=list(key),
            set_={
                name: combine(table.c[name], statement.excluded[name])
                for name, combine in merge.items()
            },
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    db.session.execute(statement, list(rows))
