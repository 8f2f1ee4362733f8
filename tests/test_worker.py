"""The Procfile's worker: the app built once before its horse is forked, the horse on its own
database connections and running many jobs, each crash or timeout failing its own job alone,
on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue
from rq.job import Job, JobStatus

from tests.conftest import make_user
from webapp import ROOT
from webapp.extensions import redis_client


@pytest.fixture
def queue(app: Flask) -> Iterator[Queue]:
    """A queue of the test's own: the jobs it fails stay out of the registries of others."""
    own = Queue(f"worker-test-{uuid.uuid4().hex[:8]}", connection=redis_client())
    yield own
    for registry in (own.failed_job_registry, own.finished_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    own.delete(delete_jobs=True)


APP_WORKER = (
    "--worker-class",
    "webapp.worker.AppWorker",
    "--job-class",
    "webapp.jobs.AppContextJob",
)


def _drain(
    app: Flask, queue_name: str, classes: tuple[str, ...] = APP_WORKER, **env: str
) -> subprocess.CompletedProcess[str]:
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
            str(rq), "worker", "--burst", "--url", app.config["REDIS_URL"], *classes, queue_name,
        ],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _outcome(job: Job) -> Any:
    job = Job.fetch(job.id, connection=job.connection)
    return job.return_value() if job.is_finished else job.get_status()


def _failure(job: Job) -> str:
    """Why a failed job failed."""
    assert _outcome(job) == JobStatus.FAILED
    result = Job.fetch(job.id, connection=job.connection).latest_result()
    assert result is not None
    return str(result.exc_string)


def test_one_horse_runs_many_jobs_on_the_app_built_before_the_fork(
    app: Flask, backend: str, queue: Queue
) -> None:
    make_user("worker@example.org")
    jobs = [queue.enqueue("tests.worker_probe.count_users") for _ in range(5)]
    done = _drain(app, queue.name, WORKER_HORSE_JOBS="2")
    results = [_outcome(job) for job in jobs]
    # The horse's own database connection sees the user, on both backends.
    assert [count for count, _ in results] == [1] * 5, done.stderr[-2000:]
    pids = [pid for _, pid in results]
    # Two jobs per horse, then a new one: a leak in one job cannot grow without end.
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert os.getpid() not in pids
    # The worker took its last horse down with it when it stopped.
    assert not [pid for pid in set(pids) if Path(f"/proc/{pid}").exists()]


def test_the_processor_worker_loads_its_app_and_image_code_once_for_many_jobs(
    app: Flask, queue: Queue, tmp_path: Path
) -> None:
    jobs = [queue.enqueue("tests.worker_probe.image_code_loaded") for _ in range(3)]
    _drain(
        app,
        queue.name,
        ("--worker-class", "processor.worker.ProcessorWorker"),
        PROCESSOR_DATABASE_URL=f"sqlite:///{tmp_path / 'processor.db'}",
        PROCESSOR_DATA_DIR=str(tmp_path / "processor"),
    )
    results = [_outcome(job) for job in jobs]
    # Loaded before the fork, not by each job's horse: 1.8 s a job otherwise.
    assert [loaded for loaded, _ in results] == [True] * 3
    assert len({pid for _, pid in results}) == 1


def test_a_job_that_kills_its_horse_fails_alone_and_the_next_gets_a_new_horse(
    app: Flask, backend: str, queue: Queue
) -> None:
    before = queue.enqueue("tests.worker_probe.count_users")
    crash = queue.enqueue("tests.worker_probe.die")
    after = queue.enqueue("tests.worker_probe.count_users")
    _drain(app, queue.name)
    assert "Work-horse terminated unexpectedly" in _failure(crash)
    (_, first), (_, second) = _outcome(before), _outcome(after)
    assert first != second


def test_a_job_past_its_timeout_fails_and_the_horse_goes_on(
    app: Flask, backend: str, queue: Queue
) -> None:
    slow = queue.enqueue("tests.worker_probe.sleep", 30, job_timeout=1)
    after = queue.enqueue("tests.worker_probe.count_users")
    _drain(app, queue.name)
    assert "JobTimeoutException" in _failure(slow)
    count, _ = _outcome(after)
    assert count == 0
