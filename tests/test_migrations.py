from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from webapp.extensions import db


def test_models_and_migrations_agree(app: Flask) -> None:
    """The schema built by the migrations is the one the models describe."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
