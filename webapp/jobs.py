"""RQ jobs run inside an application context."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context
from rq.job import Job

_worker_app: Flask | None = None


def worker_app() -> Flask:
    """The app of this worker process: built on first use, and, under `AppWorker`, before
    the work horses are forked, which inherit it."""
    global _worker_app
    if _worker_app is None:
        from webapp import create_app

        _worker_app = create_app()
    return _worker_app


class AppContextJob(Job):
    """Runs each job inside the app context of the worker's app.

    A job run where an app context is already pushed (tests' burst workers) uses that app.
    """

    def perform(self) -> Any:
        if has_app_context():
            return super().perform()
        with worker_app().app_context():
            return super().perform()
