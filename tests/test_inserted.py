"""Rows written by Core INSERTs (a task's start, a timeline entry), several in one statement
on PostgreSQL: they hold what the ORM's insert would have written, and their objects are in
the session as if loaded."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select

from tests.queries import count_queries
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.inserted import insert_row, insert_rows, loaded_object, row_values, table_of
from webapp.tasks.models import Task
from webapp.timeline.models import TimelineEntry

COMPARED = [
    c.key for c in Task.__table__.columns if c.key not in {"id", "requested_at", "updated_at"}
]


def insert_task(given: dict[str, Any], **loaded: Any) -> Task:
    """As a start writes a task: its row, then its object."""
    row = row_values(table_of(Task), given)
    task = loaded_object(Task, row, **loaded)
    insert_rows((Task, row))
    db.session.add(task)
    return task


def test_an_inserted_task_holds_what_the_orms_insert_would_have(app: Flask, user: User) -> None:
    given = {"name": "sum", "owner_id": user.id, "inputs": {"numbers": [1, 2]}}
    by_orm = Task(**given)
    db.session.add(by_orm)
    db.session.flush()
    before = utcnow()
    inserted = insert_task(given, owner=user, artifacts=[], children=[])
    after = utcnow()
    db.session.commit()

    expected = {key: getattr(by_orm, key) for key in COMPARED}
    assert {key: getattr(inserted, key) for key in COMPARED} == expected
    db.session.expire_all()
    stored = db.session.get(Task, inserted.stored_id)
    assert stored is not None
    assert {key: getattr(stored, key) for key in COMPARED} == expected
    assert before <= stored.requested_at <= after
    assert before <= stored.updated_at <= after
    assert len(stored.id) == 36
    assert stored.id != by_orm.id


def test_an_inserted_object_costs_one_insert_and_is_not_written_again(
    app: Flask, user: User
) -> None:
    owner_id, email = user.id, user.email
    with count_queries() as seen:
        task = insert_task(
            {"name": "sum", "owner_id": owner_id}, owner=user, artifacts=[], children=[]
        )
        # What it was given as loaded is read without a query.
        assert (task.owner.email, task.artifacts, task.children) == (email, [], [])
        assert task in db.session
        assert not db.session.dirty
        assert not db.session.new
        db.session.commit()
    assert [statement.split()[0].upper() for statement in seen] == ["INSERT"]


def test_an_inserted_row_is_committed_or_rolled_back_with_its_change(
    app: Flask, user: User
) -> None:
    insert_row(TimelineEntry, {"action": "task.start", "actor_id": user.id})
    db.session.rollback()
    assert db.session.scalars(select(TimelineEntry)).all() == []
    insert_row(TimelineEntry, {"action": "task.start", "actor_id": user.id})
    db.session.commit()
    entry = db.session.scalars(select(TimelineEntry)).one()
    assert (entry.action, entry.actor_id, entry.details, entry.kept) == (
        "task.start",
        user.id,
        {},
        False,
    )
    assert entry.at is not None


def test_a_column_the_database_fills_is_left_to_it() -> None:
    table = Table(
        "made",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("made_at", DateTime, server_default=func.now()),
        Column("name", String(10)),
        Column("size", Integer, default=3),
    )
    assert row_values(table, {}) == {"name": None, "size": 3}
    assert row_values(table, {"size": 4}) == {"name": None, "size": 4}


def test_an_unknown_column_or_a_missing_key_is_refused_before_anything_is_written(
    app: Flask, user: User
) -> None:
    user_id = user.id
    with count_queries() as seen:
        with pytest.raises(TypeError, match="tasks has no column colour"):
            insert_task({"name": "sum", "owner_id": user_id, "colour": "red"})
        with pytest.raises(TypeError, match="timeline has no column colour"):
            insert_rows(
                (Task, {"name": "sum", "owner_id": user_id}),
                (TimelineEntry, {"action": "task.start", "colour": "red"}),
            )
        with pytest.raises(ValueError, match="needs its primary key"):
            loaded_object(TimelineEntry, row_values(table_of(TimelineEntry), {"action": "x"}))
    assert seen == []


def test_rows_of_two_tables_go_in_one_statement_on_postgresql_and_are_kept_together(
    app: Flask, user: User, backend: str
) -> None:
    user_id = user.id
    with count_queries() as seen:
        task_row, entry_row = insert_rows(
            (Task, {"name": "sum", "owner_id": user_id, "inputs": {"numbers": [1.5]}}),
            (TimelineEntry, {"action": "task.start", "actor_id": user_id, "details": {"n": 1}}),
        )
    assert [statement.split()[0].upper() for statement in seen] == (
        ["WITH"] if backend == "postgresql" else ["INSERT", "INSERT"]
    )
    db.session.rollback()
    assert db.session.scalars(select(Task)).all() == []
    assert db.session.scalars(select(TimelineEntry)).all() == []

    insert_rows((Task, task_row), (TimelineEntry, entry_row))
    db.session.commit()
    task = db.session.scalars(select(Task)).one()
    entry = db.session.scalars(select(TimelineEntry)).one()
    assert (task.id, task.inputs, task.status) == (task_row["id"], {"numbers": [1.5]}, "PENDING")
    assert (entry.action, entry.actor_id, entry.details) == ("task.start", user_id, {"n": 1})
