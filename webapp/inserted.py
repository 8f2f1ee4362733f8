"""A new row written by one Core INSERT, its object in the session as if it had been loaded:
for the busiest writes (a task's start, a timeline entry), where the unit of work costs
three times the INSERT itself."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Table
from sqlalchemy.orm import make_transient_to_detached

from webapp.extensions import db

M = TypeVar("M")


def row_values(table: Table, given: dict[str, Any]) -> dict[str, Any]:
    """Every column of the row: what is given, else its Python default, as the ORM's insert
    would have set it; a column the database fills (a server default) is left to it. A
    callable default is called without the statement's context, which none of ours reads."""
    unknown = set(given) - set(table.columns.keys())
    if unknown:
        raise TypeError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    row = dict(given)
    for column in table.columns:
        if column.key in row:
            continue
        default = column.default
        if default is None:
            if column.server_default is None and not column.primary_key:
                row[column.key] = None
        elif default.is_callable:
            row[column.key] = default.arg(None)  # type: ignore[attr-defined]
        elif default.is_scalar:
            row[column.key] = default.arg  # type: ignore[attr-defined]
    return row


def table_of(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


@cache
def _insert(table: Table) -> Insert:
    # One statement per table: a new one each time would have its cache key computed again.
    return table.insert()


def insert_row(model: type[Any], given: dict[str, Any]) -> dict[str, Any]:
    """Insert the row in the session's transaction, committed with it: its values."""
    table = table_of(model)
    row = row_values(table, given)
    db.session.execute(_insert(table), row)
    return row


def insert_object(model: type[M], given: dict[str, Any], **loaded: Any) -> M:
    """Insert the row, and return its object, persistent in the session, with `loaded` (the
    related objects the caller holds already) as if loaded with it. Its primary key must be
    known before: one the database picks would have to be read back."""
    table = table_of(model)
    row = row_values(table, given)
    if any(row.get(column.key) is None for column in table.primary_key):
        raise ValueError(f"a new {table.name} row needs its primary key")
    db.session.execute(_insert(table), row)
    obj = model(**row, **loaded)
    # What it holds is what the row holds: nothing for the unit of work to write again.
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj
