"""The reference processing API's application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from processor.api import bp
from processor.auth import authenticate, check_listen_host
from processor.clock import clock_command
from processor.config import load_config
from processor.models import db

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(load_config(Path(app.instance_path)))
    app.config.update(overrides or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The web process, the worker and the clock share the file: wait rather than fail.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    check_listen_host(app)
    db.init_app(app)
    app.before_request(authenticate)
    app.register_blueprint(bp)
    app.cli.add_command(clock_command)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with app.app_context():
        # Its own small schema, made on first start (the web app's migrations are not its).
        try:
            db.create_all()
        except SQLAlchemyError:
            # Another process of the processor made the tables at the same moment.
            db.session.rollback()
            db.create_all()
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as connection:
                connection.execute(text("PRAGMA journal_mode=WAL"))
    return app
