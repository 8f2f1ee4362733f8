"""A pooled connection is checked before use only when it has sat idle: the server ending one
that sat idle costs no request; ending one in use a moment ago costs the one request that
finds it, and the pool is replaced for the next ones."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests import provision
from tests.conftest import make_test_app
from webapp.extensions import db


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    name = f"scriptorium_pool_{uuid.uuid4().hex[:10]}"
    yield provision.create_database(postgres_server, name)
    provision.drop_database(postgres_server, name)


def _app(url: str, redis_url: str, tmp_path: Path, idle: float) -> Flask:
    return make_test_app(url, redis_url, tmp_path, DATABASE_CHECK_AFTER_IDLE=idle)


def _backend_pid() -> int:
    """The server process of the connection this request is given."""
    pid = int(db.session.execute(text("SELECT pg_backend_pid()")).scalar_one())
    db.session.remove()  # the connection goes back to the pool, as at a request's end
    return pid


def _end(url: str, pid: int) -> None:
    """What a server restart, a failover or an administrator does to that connection."""
    with psycopg.connect(provision._libpq(url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            time.sleep(0.01)


def test_a_connection_ended_while_idle_is_replaced_before_use(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    app = _app(postgres_url, redis_url, tmp_path, idle=0.05)
    with app.app_context():
        first = _backend_pid()
        _end(postgres_url, first)
        time.sleep(0.1)
        assert _backend_pid() != first  # and no error: the ping found it dead
        db.engine.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged_and_one_failure_renews_the_pool(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    app = _app(postgres_url, redis_url, tmp_path, idle=3600)
    with app.app_context():
        # Two connections in the pool, both ended by the server.
        with db.engine.connect() as one, db.engine.connect() as two:
            pids = [
                int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
                for conn in (one, two)
            ]
        for pid in pids:
            _end(postgres_url, pid)
        # Trusted without a ping, the first fails...
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        # ...and with it the pool is dropped: the next is new, not the other ended one.
        assert _backend_pid() not in pids
        db.engine.dispose()
