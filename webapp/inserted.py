"""New rows written by Core INSERTs, rows of several tables in one statement where the
database can, and their objects as if they had been loaded: for the busiest writes (a task's
start and its timeline entry), where the unit of work costs three times the INSERT itself."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, bindparam
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

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


Shape = tuple[tuple[Table, tuple[str, ...]], ...]


def _param(index: int, key: str) -> str:
    return f"row{index}_{key}"


@cache
def _insert_together(shape: Shape) -> Insert:
    """One statement for rows of these tables with these columns: the last row inserted by the
    statement itself, each other by a data-modifying CTE, which runs whether or not the
    statement reads it. Built once per shape, for the same reason as `_insert`."""

    def insert(index: int) -> Insert:
        table, keys = shape[index]
        return table.insert().values(
            {key: bindparam(_param(index, key), type_=table.c[key].type) for key in keys}
        )

    statement = insert(len(shape) - 1)
    for index in range(len(shape) - 1):
        statement = statement.add_cte(insert(index).cte(f"row{index}"))
    return statement


def insert_rows(*rows: tuple[type[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert a row per (model, given) pair in the session's transaction, committed with it:
    their values. On PostgreSQL, in one statement, one round trip; elsewhere (SQLite, which
    has no data-modifying CTE, and no round trip either) one statement each. The parts of one
    statement see the same snapshot: no row may need to read another."""
    tables = [table_of(model) for model, _given in rows]
    values = [
        (table, row_values(table, given))
        for table, (_model, given) in zip(tables, rows, strict=True)
    ]
    if len(values) > 1 and db.session.get_bind().dialect.name == "postgresql":
        shape = tuple((table, tuple(row)) for table, row in values)
        params = {
            _param(index, key): value
            for index, (_table, row) in enumerate(values)
            for key, value in row.items()
        }
        db.session.execute(_insert_together(shape), params)
    else:
        for table, row in values:
            db.session.execute(_insert(table), row)
    return [row for _table, row in values]


def insert_row(model: type[Any], given: dict[str, Any]) -> dict[str, Any]:
    """Insert the row in the session's transaction, committed with it: its values."""
    return insert_rows((model, given))[0]


def loaded_object(model: type[M], row: dict[str, Any], **loaded: Any) -> M:
    """The object of a row about to be inserted, as if loaded (`loaded`: the related objects
    the caller holds), with its identity but not yet in the session: add it once the row is
    written. Its primary key must be in the row: one the database picks would have to be read
    back."""
    table = table_of(model)
    if any(row.get(column.key) is None for column in table.primary_key):
        raise ValueError(f"a new {table.name} row needs its primary key")
    obj = model()
    # As the ORM sets what it loads: without the events and history of setting attributes,
    # which cost nearly as much as executing the INSERT.
    for key, value in {**row, **loaded}.items():
        set_committed_value(obj, key, value)
    # What it holds is what the row holds: nothing for the unit of work to write again.
    make_transient_to_detached(obj)
    return obj
