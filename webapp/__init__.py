"""Scriptorium: launch and follow computer-vision treatments on digitized documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from webapp.api import init_api
    from webapp.config import load_config
    from webapp.errors import register_error_handlers
    from webapp.extensions import init_extensions
    from webapp.flows.registry import init_flows
    from webapp.logs import init_logging
    from webapp.security import DatabaseInteger, init_security
    from webapp.task_modules.registry import init_registry
    from webapp.tasks.registry import init_tasks
    from webapp.templating import init_templating

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(Path(app.instance_path)))
    app.config["MIGRATIONS_DIR"] = ROOT / "migrations"
    if test_config:
        app.config.update(test_config)
    init_logging()
    if app.config["PROXY_COUNT"]:
        # Behind that many proxies, trust their X-Forwarded-* headers for scheme, host and client.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )

    app.url_map.converters["int"] = DatabaseInteger
    init_extensions(app)
    init_registry(app)
    init_tasks(app)
    init_flows(app)
    init_security(app)
    init_templating(app)
    register_blueprints(app)
    init_api(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_blueprints(app: Flask) -> None:
    from webapp.admin import bp as admin_bp
    from webapp.auth import bp as auth_bp
    from webapp.callbacks.routes import bp as callbacks_bp
    from webapp.catalog import bp as catalog_bp
    from webapp.document_sets import bp as sets_bp
    from webapp.health import bp as health_bp
    from webapp.home import bp as home_bp
    from webapp.iiif import bp as iiif_bp
    from webapp.metrics import bp as metrics_bp
    from webapp.tasks.routes import bp as tasks_bp
    from webapp.treatments import bp as treatments_bp
    from webapp.treatments.notify import bp as notifications_bp
    from webapp.workflows import bp as workflows_bp

    for blueprint in (
        admin_bp,
        auth_bp,
        callbacks_bp,
        catalog_bp,
        sets_bp,
        iiif_bp,
        health_bp,
        home_bp,
        metrics_bp,
        treatments_bp,
        tasks_bp,
        workflows_bp,
        notifications_bp,
    ):
        app.register_blueprint(blueprint)
    for module in app.extensions["task_modules"].values():
        if module.blueprint is not None:
            app.register_blueprint(module.blueprint)


def register_commands(app: Flask) -> None:
    from webapp.auth.cli import users_cli
    from webapp.demo.cli import demo_cli
    from webapp.flows.cli import flows_cli
    from webapp.launcher import up_command
    from webapp.tasks.cli import tasks_cli
    from webapp.treatments.cli import treatments_cli
    from webapp.treatments.clock import clock_command

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(up_command)
    app.cli.add_command(clock_command)
    app.cli.add_command(treatments_cli)
    app.cli.add_command(tasks_cli)
    app.cli.add_command(flows_cli)
