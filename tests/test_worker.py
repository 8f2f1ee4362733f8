"""The Procfile's worker: the app built once before forking, each horse on its own database
connections, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from rq.job import Job

from tests.conftest import make_user
from webapp import ROOT
from webapp.extensions import get_queue


def test_work_horses_use_the_app_built_before_the_fork(app: Flask, backend: str) -> None:
    make_user("worker@example.org")
    queue = get_queue()
    jobs = [queue.enqueue("tests.worker_probe.count_users") for _ in range(3)]
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "SECRET_KEY": "worker-test",
        "PYTHONPATH": str(ROOT),
    }
    rq = Path(sys.executable).parent / "rq"
    done = subprocess.run(
        [
            str(rq), "worker", "--burst", "--url", app.config["REDIS_URL"],
            "--worker-class", "webapp.worker.AppWorker",
            "--job-class", "webapp.jobs.AppContextJob", queue.name,
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results: list[tuple[int, int]] = [
        tuple(Job.fetch(job.id, connection=queue.connection).return_value() or ()) for job in jobs
    ]
    assert [count for count, _ in results] == [1, 1, 1], done.stderr[-2000:]
    assert len({pid for _, pid in results}) == 3  # one horse per job
