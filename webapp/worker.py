"""The RQ worker of the web app: the app is built once, in the worker, before any work horse
is forked, so that a job costs what an RQ job costs instead of an app's start-up. Each horse
drops the database connections it inherited (they belong to the parent's sockets) and opens
its own; Redis clients reconnect by themselves after a fork."""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import Queue
from rq.job import Job
from rq.worker import Worker
from sqlalchemy.orm import configure_mappers

from webapp.extensions import db
from webapp.jobs import worker_app


def warm(app: Flask) -> None:
    """Do once in the worker what each horse would otherwise do anew and throw away:
    configure the ORM's mappers and compile every template (a job renders the live
    fragments of its treatment)."""
    configure_mappers()
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
        app.jinja_env.get_template(name)


class AppWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warm(worker_app())

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        with worker_app().app_context():
            # The pool's connections are the parent's: forget them without closing them.
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
