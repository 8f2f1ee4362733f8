"""The database pool of a process: as large as its busy moments, and a connection checked
before use only when it has sat idle (PostgreSQL; SQLite keeps the pool Flask-SQLAlchemy
picks for it, with nothing to lose but a file)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

from webapp.extensions import db

RETURNED = "scriptorium_returned_at"


def _on_sqlite(app: Flask) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")


def size_pool(app: Flask) -> None:
    """Past its size, every connection given back is closed and the next request opens a new
    one (a server process each, on PostgreSQL), which under a burst of notifications cost more
    than the requests. Run before the engine is made."""
    if not _on_sqlite(app):
        config = app.config
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_size": config["DATABASE_POOL_SIZE"],
            "max_overflow": config["DATABASE_POOL_OVERFLOW"],
        }


def check_idle_connections(app: Flask) -> None:
    """Ping a connection the pool hands out if it has been back in the pool for longer than
    DATABASE_CHECK_AFTER_IDLE seconds; replace it, and every connection older, if it does not
    answer. A ping on every checkout (`pool_pre_ping`) was a round trip per request: without
    it, bench/api.py's one-insert baseline answers 1,140 requests/s against 740 to 970. A
    connection in use moments ago is alive but for a server that went away in those moments,
    and then the first request to fail drops the pool for the next ones. Run after the engine
    is made."""
    if _on_sqlite(app):
        return
    idle = float(app.config["DATABASE_CHECK_AFTER_IDLE"])
    with app.app_context():
        engine = db.engine
    _listen(engine, idle)


def _listen(engine: Engine, idle: float) -> None:
    def returned(_dbapi_connection: Any, record: Any) -> None:
        # The record's info goes with its connection: a new connection starts without.
        record.info[RETURNED] = time.monotonic()

    def checked(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(RETURNED)
        if since is None or time.monotonic() - since < idle:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError(str(error)) from error
        if not alive:
            raise InvalidatePoolError("the connection did not answer a ping")

    event.listen(engine.pool, "checkin", returned)
    event.listen(engine.pool, "checkout", checked)
