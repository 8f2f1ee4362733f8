"""Periodic work (the Procfile's clock process): re-dispatch what Redis lost, reap the silent,
send the emails still due, note how the processing API answers.

The clock never exits on an outage of Redis or of the database: it logs, waits, and tries
again, so recorded work is picked up as soon as both are back.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from webapp import processing_api as api
from webapp.callbacks.outbox import dispatch_callbacks
from webapp.catalog.iiif_import import dispatch_imports
from webapp.columns import utcnow
from webapp.extensions import db, redis_client
from webapp.flows.engine import recover_flows
from webapp.health import API_HEALTH_KEY, processing_api_health
from webapp.lifecycle import Status, transition
from webapp.task_modules.registry import task_module
from webapp.tasks.runner import dispatch_tasks
from webapp.tracked_jobs import job_alive
from webapp.treatments.apply import events_jobs, forget_pending_job, schedule_events
from webapp.treatments.completion import dispatch_emails
from webapp.treatments.fair_share import admit
from webapp.treatments.launch import enqueue_launch, launch_queued
from webapp.treatments.models import Treatment, TreatmentEvent
from webapp.treatments.purge import purge
from webapp.workflows.engine import dispatch_workflows

log = logging.getLogger(__name__)

RUNNING = {"STARTED", "PROGRESS", "IN_PROGRESS", "RETRY", "RETRYING", "RECEIVED"}
# AIKON's API says PENDING for a queued job, and also for one it forgot or never knew.
AMBIGUOUS = {"PENDING", "UNKNOWN"}
LOST_CONTACT = "Lost contact with the processing API"
FORGOTTEN = "NOT FOUND"  # the API refused to answer about it (a 4xx): it does not know it


def dispatch() -> int:
    """Queue again the launches and events whose jobs are gone; returns how many."""
    config = current_app.config
    now = utcnow()
    grace = now - timedelta(seconds=config["DISPATCH_GRACE_SECONDS"])
    lease = now - timedelta(seconds=config["LAUNCH_LEASE_SECONDS"])
    count = 0
    waiting = db.session.execute(
        select(Treatment.id, Treatment.claimed_at).where(
            Treatment.status.in_([Status.PENDING, Status.RETRYING]),
            Treatment.admitted_at.is_not(None),
            or_(Treatment.claimed_at < lease, Treatment.updated_at < grace),
        )
    ).all()
    for treatment_id, claimed_at in waiting:
        # A lease run out means the worker died mid-launch, whatever RQ still says of its job.
        if (claimed_at is not None and claimed_at < lease) or (
            claimed_at is None and not launch_queued(treatment_id)
        ):
            enqueue_launch(treatment_id)
            count += 1
    lagging = db.session.scalars(
        select(TreatmentEvent.treatment_id)
        .where(TreatmentEvent.processed_at.is_(None), TreatmentEvent.received_at < grace)
        .distinct()
    )
    for treatment_id in lagging:
        if not any(job_alive(job_id) for job_id in events_jobs(treatment_id)):
            forget_pending_job(treatment_id)
            schedule_events(treatment_id)
            count += 1
    return (
        count
        + admit()
        + dispatch_imports()
        + dispatch_tasks()
        + dispatch_emails()
        + dispatch_callbacks()
        + dispatch_workflows()
        + recover_flows()
    )


def api_state(body: dict[str, Any]) -> str:
    """The run's state from a status answer, whatever its shape (DESIGN 6)."""
    log_ = body.get("log")
    if "log" in body and log_ is None:
        return "ERROR"  # AIKON's status after an ERROR
    if isinstance(log_, dict):
        return str(log_.get("status") or "SUCCESS").upper()  # no status key after SUCCESS
    return str(body.get("status") or "UNKNOWN").upper()


def _ask(treatment: Treatment) -> str | None:
    """The API's word on the run; None when it does not answer."""
    if not treatment.tracking_id:
        return "UNKNOWN"
    try:
        return api_state(api.status(task_module(treatment.task_type).route, treatment.tracking_id))
    except api.TransientAPIError:
        return None
    except api.APIError:
        return FORGOTTEN


def _lost(treatment: Treatment, reason: str) -> None:
    transition(
        treatment,
        Status.ERROR,
        error=f"{LOST_CONTACT}: {reason} Results that arrived before are kept.",
    )


def _reap_one(treatment: Treatment) -> None:
    config = current_app.config
    now = utcnow()
    horizon = timedelta(seconds=config["RESULTS_HORIZON_SECONDS"])
    state = _ask(treatment)
    if treatment.started_at and now - treatment.started_at > timedelta(
        hours=config["MAX_RUN_HOURS"]
    ):
        _lost(
            treatment,
            f"the run went past the maximum run time ({config['MAX_RUN_HOURS']:g} h); "
            f"the API's last word was {state or 'no answer'}.",
        )
        return
    if state in RUNNING:
        treatment.lost_checks, treatment.lost_since = 0, None
        treatment.touch()
    elif state == "SUCCESS":
        # Its SUCCESS may still be on its way: the sender retries for the horizon.
        if treatment.updated_at < now - horizon:
            _lost(treatment, "it reports success, but its results never arrived.")
            return
    elif state in AMBIGUOUS or state is None:
        if treatment.state is Status.STARTED and state == "PENDING":
            treatment.touch()  # accepted and still queued at the API
        else:
            treatment.lost_checks += 1
            treatment.lost_since = treatment.lost_since or now
            if (
                treatment.lost_checks >= config["REAPER_LOST_CHECKS"]
                and now - treatment.lost_since >= horizon
            ):
                _lost(
                    treatment,
                    f"it has had no news of this run on {treatment.lost_checks} checks "
                    f"since {treatment.lost_since:%Y-%m-%d %H:%M} UTC.",
                )
                return
    elif state == FORGOTTEN:
        _lost(treatment, "it does not know this run.")
        return
    else:
        _lost(treatment, f"it reports the run as {state}.")
        return
    db.session.commit()


def reap() -> int:
    """Ask the API about treatments silent for too long; end those it lost. Returns how many."""
    config = current_app.config
    silent_since = utcnow() - timedelta(seconds=config["REAPER_SILENCE_SECONDS"])
    silent = list(
        db.session.scalars(
            select(Treatment.id).where(
                Treatment.status.in_([Status.STARTED, Status.IN_PROGRESS]),
                Treatment.updated_at < silent_since,
                # A step that runs as parts has no run at the API: its parts do.
                Treatment.container.is_(False),
            )
        )
    )
    for treatment_id in silent:
        treatment = db.session.get(Treatment, treatment_id)
        if treatment is not None and not treatment.state.is_terminal:
            _reap_one(treatment)
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(db.func.count())
            .select_from(Treatment)
            .where(Treatment.id.in_(silent), Treatment.status == Status.ERROR)
        )
        or 0
    )


def purge_when_due() -> None:
    """Once per PURGE_INTERVAL_SECONDS, whichever clock process gets there first."""
    config = current_app.config
    key = f"{config['REDIS_PREFIX']}:clock:purge"
    if redis_client().set(
        key, utcnow().isoformat(), nx=True, ex=int(config["PURGE_INTERVAL_SECONDS"])
    ):
        purge(timedelta(days=config["PURGE_AFTER_DAYS"]))


def note_api_health() -> None:
    """What `/healthz` reports of the API: checked here, not on every request."""
    health = processing_api_health() | {"checked_at": utcnow().isoformat()}
    prefix = current_app.config["REDIS_PREFIX"]
    redis_client().set(f"{prefix}:{API_HEALTH_KEY}", json.dumps(health), ex=600)


def run_once() -> None:
    dispatched = dispatch()
    reaped = reap()
    purge_when_due()
    note_api_health()
    if dispatched or reaped:
        log.info(
            "clock: %s job(s) dispatched again, %s silent treatment(s) ended", dispatched, reaped
        )
    redis_client().set(f"{current_app.config['REDIS_PREFIX']}:clock:last_run", utcnow().isoformat())


@click.command("clock")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@with_appcontext
def clock_command(once: bool) -> None:
    """Run the periodic work: the dispatcher, the reaper, the emails, the purge."""
    interval = current_app.config["CLOCK_INTERVAL_SECONDS"]
    failures = 0
    while True:
        try:
            run_once()
            failures = 0
        except (RedisError, SQLAlchemyError, OSError) as exc:
            failures += 1
            log.warning("clock: %s (%s in a row); trying again", exc, failures)
        finally:
            db.session.remove()
        if once:
            return
        time.sleep(min(interval * 2 ** max(0, failures - 1), 60.0) if failures else interval)
