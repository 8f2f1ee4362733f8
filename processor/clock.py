"""The processor's clock: delivers the outbox and resumes jobs that stopped, so that neither a
notification nor a job is lost when a worker, Redis or the receiver goes away."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from processor.models import PENDING, STARTED, Job, db
from processor.outbox import Sender
from processor.work import enqueue, queue

log = logging.getLogger(__name__)
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def _waiting_in_queue(job: Job) -> bool:
    if not job.rq_job_id:
        return False
    try:
        status = RQJob.fetch(job.rq_job_id, connection=queue().connection).get_status()
    except NoSuchJobError:
        return False
    return status in WAITING


def sweep() -> int:
    """Queue again every unfinished job that nothing runs or waits to run: its lease ran out
    (its worker died) or its RQ job is gone (Redis lost it, or it was never queued)."""
    stmt = select(Job).where(Job.status.in_((PENDING, STARTED)), Job.lease_until < time.time())
    resumed = 0
    try:
        for job in db.session.scalars(stmt).all():
            if _waiting_in_queue(job):
                continue
            enqueue(job)
            db.session.commit()
            resumed += 1
            log.warning("job %s queued again (it was not running)", job.tracking_id)
    except RedisError as exc:
        db.session.rollback()
        log.warning("sweep skipped: Redis cannot be reached (%s)", exc)
    return resumed


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command("clock")
@click.option("--once", is_flag=True, help="Sweep and deliver what is due, then stop.")
@with_appcontext
def clock_command(once: bool) -> None:
    """Deliver notifications and resume stopped jobs, until stopped."""
    signal.signal(signal.SIGTERM, _stop)
    config = current_app.config
    sender = Sender()
    next_sweep = 0.0
    failures = 0
    try:
        while True:
            try:
                if time.time() >= next_sweep:
                    sweep()
                    next_sweep = time.time() + config["SWEEP_SECONDS"]
                busy = sender.step()
                failures = 0
            except (RedisError, SQLAlchemyError, OSError) as exc:
                # An outage of the database or Redis is waited out, never a reason to stop.
                db.session.rollback()
                failures += 1
                busy = False
                log.warning("clock: %s (%s in a row); trying again", exc, failures)
                time.sleep(min(2.0**failures, 30.0))
            finally:
                db.session.remove()
            if once and not busy:
                break
            time.sleep(config["OUTBOX_POLL_SECONDS"])
    finally:
        sender.close()
