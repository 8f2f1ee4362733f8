"""The processor's RQ worker: its work horse lives for many jobs (`longlived.worker`), in the
processor's app.

A plain RQ worker forks a horse per job, and each horse imported the image code (numpy,
SciPy, scikit-image) and built the app again: 1.8 s of every job, which a treatment cut into
one job per document (a workflow's steps) paid for each document. Here the app and the code
are loaded once, before the fork, and one horse runs job after job.
"""

from __future__ import annotations

from flask import Flask

from longlived.worker import HorseWorker
from processor.work import worker_app


class ProcessorWorker(HorseWorker):
    @staticmethod
    def jobs_app() -> Flask:
        return worker_app()
