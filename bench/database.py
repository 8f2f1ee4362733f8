"""A PostgreSQL database of a benchmark run's own: created, migrated, dropped at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def libpq(url: str) -> str:
    """The URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_database(env: dict[str, str]) -> Iterator[str]:
    """A new database on the server of TEST_POSTGRES_URL, with the app's tables: its
    SQLAlchemy URL, valid until the block ends."""
    name = f"scriptorium_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq(POSTGRES), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        with psycopg.connect(libpq(POSTGRES), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_treatments(
    url: str, owner_id: int, count: int, tracking_id: str | None = None
) -> list[str]:
    """`count` regions treatments of that user, IN_PROGRESS: their ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for treatment_id in ids:
            conn.execute(
                "INSERT INTO treatments (id, task_type, owner_id, document_set_title, parameters,"
                " documents, done_documents, document_errors, notify_email, status, attempts,"
                " message, error, requested_at, updated_at, tracking_id) VALUES (%s, 'regions',"
                " %s, 'bench', '{}', '[]', '[]', '[]', false, 'IN_PROGRESS', 0, '', '', now(),"
                " now(), %s)",
                (treatment_id, owner_id, tracking_id),
            )
    return ids
