"""Every extension instance, created once and bound to the app in create_app."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask, current_app
from flask_babel import Babel, refresh
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from redis.client import Pipeline
from rq import Queue
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Stable constraint names let Alembic alter and drop them, SQLite included.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
mail = Mail()
babel = Babel()


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores ON DELETE CASCADE unless asked, and deleting a document must remove it
    # from every document set; WAL and a busy timeout let web and worker processes share it.
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])


def redis_client() -> Redis:
    return cast(Redis, current_app.extensions["redis"])


def redis_transaction() -> Pipeline:
    """Redis writes sent together, in one round trip, when executed: in MULTI mode from the
    start, as RQ requires of a pipeline it is handed."""
    pipe = redis_client().pipeline()
    pipe.multi()
    return pipe


def get_queue(name: str = "default") -> Queue:
    from webapp.jobs import AppContextJob

    return Queue(name, connection=redis_client(), job_class=AppContextJob)


def init_extensions(app: Flask) -> None:
    from webapp.database_pool import check_idle_connections, size_pool
    from webapp.i18n import TRANSLATIONS, select_locale
    from webapp.rate_limits import init_rate_limits

    size_pool(app)
    db.init_app(app)
    check_idle_connections(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))
    csrf.init_app(app)
    login_manager.init_app(app)
    init_rate_limits(app)
    mail.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS)
    )
    # Each request chooses its language afresh: a context that outlives a request (a test's,
    # a stream's) must not keep the language of the one before.
    app.before_request(refresh)
    init_redis(app)
