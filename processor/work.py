"""Running a job in the processor's RQ worker: one document after another, each recorded with
its notification in one transaction, so that a job cut short resumes where it stopped and
cancel takes effect between two images."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue
from sqlalchemy import update

from processor.models import (
    CANCELLED,
    ERROR,
    PENDING,
    STARTED,
    SUCCESS,
    DocumentResult,
    Job,
    db,
)
from processor.outbox import notify
from processor.sources import SourceError
from processor.tasks import RUNNERS, DocumentWork

log = logging.getLogger(__name__)
_worker_app: Flask | None = None


class Cancelled(Exception):
    pass


def queue() -> Queue:
    config = current_app.config
    return Queue(config["PROCESSOR_QUEUE"], connection=Redis.from_url(config["REDIS_URL"]))


def enqueue(job: Job) -> None:
    """Queue a run of the job (the caller commits the id it gets)."""
    attempt = int(time.time() * 1000)
    rq_job = queue().enqueue(
        run_job,
        job.tracking_id,
        job_id=f"processor-{job.tracking_id}-{attempt}",
        job_timeout=current_app.config["JOB_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    job.rq_job_id = rq_job.id


def result_directory(tracking_id: str) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "results" / tracking_id


def worker_app() -> Flask:
    """The processor app of this worker process: built on first use, and, under
    `ProcessorWorker`, before the work horses are forked, which inherit it."""
    global _worker_app
    if _worker_app is None:
        from processor.app import create_app

        _worker_app = create_app()
    return _worker_app


def run_job(tracking_id: str) -> None:
    """The RQ entry point, in the worker's processor app."""
    if has_app_context():
        _run(tracking_id)
        return
    with worker_app().app_context():
        _run(tracking_id)


def _claim(tracking_id: str) -> bool:
    """Take the job's lease, unless another run holds it or the job is over."""
    now = time.time()
    claimed = db.session.execute(
        update(Job)
        .where(
            Job.tracking_id == tracking_id,
            Job.status.in_((PENDING, STARTED)),
            Job.lease_until < now,
        )
        .values(lease_until=now + current_app.config["LEASE_SECONDS"])
    )
    db.session.commit()
    return bool(getattr(claimed, "rowcount", 0))


def _check_in(job: Job, done: int, total: int) -> None:
    """Between two images: report progress, renew the lease, and stop if cancelled."""
    db.session.refresh(job, ["cancel_requested"])
    if job.cancel_requested:
        raise Cancelled
    job.images_done, job.images_total = done, total
    job.lease_until = time.time() + current_app.config["LEASE_SECONDS"]
    db.session.commit()


def _finish_cancelled(job: Job) -> None:
    job.status, job.finished_at = CANCELLED, time.time()
    notify(job, "ERROR", error="[Cancelled] The treatment was cancelled.", completed=True)
    db.session.commit()


def _run(tracking_id: str) -> None:
    if not _claim(tracking_id):
        return
    job = db.session.get(Job, tracking_id)
    if job is None:
        return
    log.info("job %s (%s) running", tracking_id, job.task)
    if job.status == PENDING:
        job.status = STARTED
        notify(job, "STARTED")
        db.session.commit()
    directory = result_directory(tracking_id)
    directory.mkdir(parents=True, exist_ok=True)
    done = {result.position for result in job.results}
    total = len(job.documents)
    try:
        for position, document in enumerate(job.documents):
            if position in done:
                continue
            _check_in(job, 0, 0)
            _run_document(job, position, document, directory, total)
    except Cancelled:
        db.session.rollback()
        _finish_cancelled(job)
        log.info("job %s cancelled", tracking_id)
        return
    _conclude(job)


def _run_document(
    job: Job, position: int, document: dict[str, str], directory: Path, total: int
) -> None:
    work = DocumentWork(
        position=position,
        document=document,
        parameters=job.parameters,
        directory=directory,
        base_url=f"{current_app.config['API_URL']}/results/{job.tracking_id}",
        progress=lambda done, count: _check_in(job, done, count),
    )
    result = DocumentResult(tracking_id=job.tracking_id, position=position, uid=work.uid)
    try:
        result.entries = RUNNERS[job.task](work)
    except SourceError as exc:
        result.failure = str(exc)
    except Cancelled:
        raise
    except Exception as exc:
        log.exception("job %s: document %s failed", job.tracking_id, work.uid)
        result.failure = f"[{type(exc).__name__}] {exc}"
    result.errors = work.errors
    db.session.add(result)
    current = position + 1
    if result.failure:
        notify(job, "ERROR", error=f"{work.uid}: {result.failure}", completed=False)
    else:
        notify(
            job,
            "PROGRESS",
            output={"results_url": result.entries},
            progress={"current": current, "total": total},
        )
    job.images_done = job.images_total = 0
    db.session.commit()


def _conclude(job: Job) -> None:
    results = job.results
    entries = [entry for r in results for entry in r.entries]
    failures = [f"{r.uid}: {r.failure}" for r in results if r.failure]
    job.finished_at = time.time()
    if entries:
        job.status = SUCCESS
        # A failed document's message already names its first bad image; the others are kept
        # with the documents that went through.
        errors = failures + [e for r in results if not r.failure for e in r.errors]
        notify(job, "SUCCESS", success=True, output={"results_url": entries, "error": errors})
    else:
        job.status = ERROR
        job.error = (
            f"No document could be processed ({len(results)} tried). First: {failures[0]}"
            if failures
            else "No document gave a result."
        )
        notify(job, "ERROR", error=job.error, completed=True)
    db.session.commit()
    log.info("job %s ended %s", job.tracking_id, job.status)
