"""The RQ worker of the web app: its work horse lives for many jobs (`longlived.worker`)."""

from __future__ import annotations

from flask import Flask

from longlived.worker import HorseWorker
from webapp.jobs import worker_app


class AppWorker(HorseWorker):
    @staticmethod
    def jobs_app() -> Flask:
        return worker_app()
