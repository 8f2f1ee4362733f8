"""The Procfile's worker: the app built once before its horse is forked, the horse on its own
database connections and running many jobs, each crash or timeout failing its own job alone,
on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from rq.job import Job, JobStatus

from tests.conftest import make_user
from webapp import ROOT
from webapp.extensions import get_queue


def _drain(app: Flask, queue_name: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A real `rq worker --burst` of the Procfile's classes, until the queue is empty."""
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "SECRET_KEY": "worker-test",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    rq = Path(sys.executable).parent / "rq"
    done = subprocess.run(
        [
            str(rq), "worker", "--burst", "--url", app.config["REDIS_URL"],
            "--worker-class", "webapp.worker.AppWorker",
            "--job-class", "webapp.jobs.AppContextJob", queue_name,
        ],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _outcome(job: Job) -> Any:
    job = Job.fetch(job.id, connection=job.connection)
    return job.return_value() if job.is_finished else job.get_status()


def test_one_horse_runs_many_jobs_on_the_app_built_before_the_fork(
    app: Flask, backend: str
) -> None:
    make_user("worker@example.org")
    queue = get_queue()
    jobs = [queue.enqueue("tests.worker_probe.count_users") for _ in range(5)]
    done = _drain(app, queue.name, WORKER_HORSE_JOBS="2")
    results = [_outcome(job) for job in jobs]
    # The horse's own database connection sees the user, on both backends.
    assert [count for count, _ in results] == [1] * 5, done.stderr[-2000:]
    pids = [pid for _, pid in results]
    # Two jobs per horse, then a new one: a leak in one job cannot grow without end.
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert os.getpid() not in pids


def test_a_job_that_kills_its_horse_fails_alone_and_the_next_gets_a_new_horse(
    app: Flask, backend: str
) -> None:
    queue = get_queue()
    before = queue.enqueue("tests.worker_probe.count_users")
    crash = queue.enqueue("tests.worker_probe.die")
    after = queue.enqueue("tests.worker_probe.count_users")
    _drain(app, queue.name)
    assert _outcome(crash) == JobStatus.FAILED
    failed = Job.fetch(crash.id, connection=queue.connection).latest_result()
    assert failed is not None
    assert "Work-horse terminated unexpectedly" in str(failed.exc_string)
    (_, first), (_, second) = _outcome(before), _outcome(after)
    assert first != second


def test_a_job_past_its_timeout_fails_and_the_horse_goes_on(app: Flask, backend: str) -> None:
    queue = get_queue()
    slow = queue.enqueue("tests.worker_probe.sleep", 30, job_timeout=1)
    after = queue.enqueue("tests.worker_probe.count_users")
    _drain(app, queue.name)
    assert _outcome(slow) == JobStatus.FAILED
    failed = Job.fetch(slow.id, connection=queue.connection).latest_result()
    assert failed is not None
    assert "JobTimeoutException" in str(failed.exc_string)
    count, _ = _outcome(after)
    assert count == 0
