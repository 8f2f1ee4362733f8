"""The RQ worker of the web app: the app is built once, in the worker, before any work horse
is forked, so that a job costs what an RQ job costs instead of an app's start-up. Each horse
drops the database connections it inherited (they belong to the parent's sockets) and opens
its own; Redis clients reconnect by themselves after a fork."""

from __future__ import annotations

from typing import Any

from rq import Queue
from rq.job import Job
from rq.worker import Worker

from webapp.extensions import db
from webapp.jobs import worker_app
from webapp.warmup import warm


class AppWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warm(worker_app())

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        with worker_app().app_context():
            # The pool's connections are the parent's: forget them without closing them.
            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
