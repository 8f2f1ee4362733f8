"""The launch job: claim the PENDING row, POST the start request, retry what is transient.

No job sleeps: a retry is a new job queued for later (RQ's scheduler), and a claim is a short
lease, so the clock launches again, within a minute, a treatment whose worker died mid-launch.
The processing API answers a repeated start with the same `experiment_id` with the same job
(ours does; otherwise the run's first notification brings its tracking id).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import update

from webapp import processing_api as api
from webapp.extensions import db
from webapp.lifecycle import Status, claim, transition
from webapp.logs import about_treatment
from webapp.readable import readable_error
from webapp.task_modules.registry import task_module
from webapp.tracked_jobs import enqueue_tracked, tracked_job_waiting
from webapp.treatments.models import Treatment
from webapp.treatments.signing import notify_token
from webapp.urls import external_url

log = logging.getLogger(__name__)


def enqueue_launch(treatment_id: str, delay: float = 0) -> None:
    """Queue the launch (after `delay` seconds); if Redis is down, the clock launches it."""
    enqueue_tracked(f"launch:{treatment_id}", launch_treatment, treatment_id, delay=delay)


def launch_queued(treatment_id: str) -> bool:
    return tracked_job_waiting(f"launch:{treatment_id}")


def build_payload(treatment: Treatment) -> dict[str, Any]:
    module = task_module(treatment.task_type)
    notify_url = external_url(
        "notifications.notify", task=module.name, token=notify_token(treatment.id)
    )
    return {
        **module.api_parameters(treatment.parameters),
        "experiment_id": treatment.id,
        "notify_url": notify_url,
        "documents": module.api_documents(treatment.documents),
    }


@about_treatment
def launch_treatment(treatment_id: str) -> None:
    lease = current_app.config["LAUNCH_LEASE_SECONDS"]
    if not claim(
        Treatment,
        treatment_id,
        [Status.PENDING, Status.RETRYING],
        lease,
        Treatment.admitted_at.is_not(None),
    ):
        log.info("treatment %s is not waiting for a launch", treatment_id)
        return
    treatment = db.session.get(Treatment, treatment_id)
    assert treatment is not None
    route = task_module(treatment.task_type).route
    try:
        tracking_id = api.start(route, build_payload(treatment))
    except api.TransientAPIError as exc:
        _retry_later(treatment, str(exc))
    except api.APIError as exc:
        transition(treatment, Status.ERROR, error=readable_error(str(exc)))
    else:
        log.info("the processing API accepted it as %s", tracking_id)
        _started(treatment, route, tracking_id)


def _retry_later(treatment: Treatment, reason: str) -> None:
    delays = current_app.config["LAUNCH_RETRY_DELAYS"]
    attempts = treatment.attempts
    if attempts >= len(delays):
        transition(
            treatment, Status.ERROR, error=f"{reason} Gave up after {attempts + 1} attempts."
        )
        return
    delay = float(delays[attempts])
    if transition(
        treatment,
        Status.RETRYING,
        f"{reason} Trying again in {delay:g} s.",
        values={"claimed_at": None},
    ):
        enqueue_launch(treatment.id, delay)


def _started(treatment: Treatment, route: str, tracking_id: str) -> None:
    values = {"tracking_id": tracking_id, "claimed_at": None}
    if transition(
        treatment, Status.STARTED, "The processing API accepted the work.", values=values
    ):
        return
    # It moved while the request was on its way: its first notification may have been applied
    # (it then carries the same tracking id), or it was cancelled, which the API must hear.
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id, Treatment.tracking_id.is_(None))
        .values(tracking_id=tracking_id)
    )
    db.session.commit()
    if treatment.state is Status.CANCELLED:
        try:
            api.cancel(route, tracking_id)
        except api.APIError:
            log.warning("could not cancel %s/%s after a cancelled launch", route, tracking_id)
