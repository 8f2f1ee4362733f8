"""Periodic work (the Procfile's clock process): re-dispatch what Redis lost, reap the silent."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from webapp import processing_api as api
from webapp.columns import utcnow
from webapp.extensions import db, redis_client
from webapp.lifecycle import Status
from webapp.live.publish import publish_treatment
from webapp.task_modules.registry import task_module
from webapp.treatments.apply import forget_pending_job, pending_job_id, schedule_events
from webapp.treatments.completion import conclude_if_ended
from webapp.treatments.models import Treatment, TreatmentEvent
from webapp.treatments.purge import purge
from webapp.treatments.service import enqueue_launch

log = logging.getLogger(__name__)

ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
RUNNING = {"PENDING", "STARTED", "PROGRESS", "IN_PROGRESS", "RETRY", "RETRYING", "RECEIVED"}


def _job_alive(job_id: str) -> bool:
    try:
        return Job.fetch(job_id, connection=redis_client()).get_status() in ALIVE
    except NoSuchJobError:
        return False


def dispatch() -> int:
    """Queue again the launches and events whose jobs are gone; returns how many."""
    grace = utcnow() - timedelta(seconds=current_app.config["DISPATCH_GRACE_SECONDS"])
    count = 0
    waiting = db.session.scalars(
        select(Treatment.id).where(
            Treatment.status.in_([Status.PENDING, Status.RETRYING]), Treatment.updated_at < grace
        )
    )
    for treatment_id in waiting:
        if not _job_alive(f"launch-{treatment_id}"):
            enqueue_launch(treatment_id)
            count += 1
    lagging = db.session.scalars(
        select(TreatmentEvent.treatment_id)
        .where(TreatmentEvent.processed_at.is_(None), TreatmentEvent.received_at < grace)
        .distinct()
    )
    for treatment_id in lagging:
        job_id = pending_job_id(treatment_id)
        if job_id is None or not _job_alive(job_id):
            forget_pending_job(treatment_id)
            schedule_events(treatment_id)
            count += 1
    return count


def _api_state(body: dict[str, Any]) -> str:
    log_ = body.get("log")
    if "log" in body and log_ is None:
        return "ERROR"  # AIKON's status after an ERROR
    if isinstance(log_, dict):
        return str(log_.get("status") or "SUCCESS")  # no status key after SUCCESS
    return str(body.get("status") or "UNKNOWN")


def reap() -> int:
    """Ask the API about treatments silent for too long; end those it lost. Returns how many."""
    config = current_app.config
    now = utcnow()
    silent = db.session.scalars(
        select(Treatment).where(
            Treatment.status.in_([Status.STARTED, Status.IN_PROGRESS]),
            Treatment.updated_at < now - timedelta(seconds=config["REAPER_SILENCE_SECONDS"]),
        )
    )
    ended = 0
    for treatment in silent:
        try:
            state = _api_state(
                api.status(
                    task_module(treatment.task_type).route, treatment.tracking_id or "unknown"
                )
            )
        except api.TransientAPIError:
            continue  # the API is down: ask again next time
        except api.APIError:
            state = "UNKNOWN"
        horizon = treatment.updated_at < now - timedelta(seconds=config["RESULTS_HORIZON_SECONDS"])
        if state.upper() in RUNNING:
            treatment.touch()
        elif state.upper() == "SUCCESS":
            if horizon:
                treatment.fail("The processing API reports success, but its results never arrived.")
        else:
            treatment.fail(
                "Lost contact with the processing API: it no longer knows this "
                "treatment, or reports that it failed."
            )
        db.session.commit()
        publish_treatment(treatment)
        if treatment.state.is_terminal:
            ended += 1
            conclude_if_ended(treatment)
    return ended


def purge_when_due() -> None:
    """Once per PURGE_INTERVAL_SECONDS, whichever clock process gets there first."""
    config = current_app.config
    key = f"{config['REDIS_PREFIX']}:clock:purge"
    if redis_client().set(
        key, utcnow().isoformat(), nx=True, ex=int(config["PURGE_INTERVAL_SECONDS"])
    ):
        purge(timedelta(days=config["PURGE_AFTER_DAYS"]))


def run_once() -> None:
    dispatched = dispatch()
    reaped = reap()
    purge_when_due()
    if dispatched or reaped:
        log.info(
            "clock: %s job(s) dispatched again, %s silent treatment(s) ended", dispatched, reaped
        )
    try:
        redis_client().set(
            f"{current_app.config['REDIS_PREFIX']}:clock:last_run", utcnow().isoformat()
        )
    except RedisError:
        log.warning("clock: Redis is unavailable")


@click.command("clock")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@with_appcontext
def clock_command(once: bool) -> None:
    """Run the periodic work: the dispatcher and the reaper."""
    while True:
        try:
            run_once()
        except RedisError:
            log.exception("clock: Redis is unavailable; trying again")
        finally:
            db.session.remove()
        if once:
            return
        time.sleep(current_app.config["CLOCK_INTERVAL_SECONDS"])
