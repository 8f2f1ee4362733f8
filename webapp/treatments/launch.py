"""The launch job: claim the PENDING row, POST the start request, retry what is transient."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, update

from webapp import processing_api as api
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.publish import publish_treatment
from webapp.logs import about_treatment
from webapp.task_modules.registry import task_module
from webapp.treatments.completion import conclude_if_ended
from webapp.treatments.models import Treatment
from webapp.treatments.signing import notify_token
from webapp.urls import external_url

log = logging.getLogger(__name__)

CLAIM_SECONDS = 900


def claim(treatment_id: str) -> bool:
    """Take the launch with one conditional update, so that two jobs never both start it."""
    stale = utcnow() - timedelta(seconds=CLAIM_SECONDS)
    result = db.session.execute(
        update(Treatment)
        .where(
            Treatment.id == treatment_id,
            Treatment.status.in_([Status.PENDING, Status.RETRYING]),
            or_(Treatment.claimed_at.is_(None), Treatment.claimed_at < stale),
        )
        .values(claimed_at=utcnow())
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def build_payload(treatment: Treatment) -> dict[str, Any]:
    module = task_module(treatment.task_type)
    notify_url = external_url(
        "notifications.notify", task=module.name, token=notify_token(treatment.id)
    )
    return {
        **treatment.parameters,
        "experiment_id": treatment.id,
        "notify_url": notify_url,
        "documents": treatment.documents,
    }


@about_treatment
def launch_treatment(treatment_id: str) -> None:
    if not claim(treatment_id):
        log.info("treatment %s is not waiting for a launch", treatment_id)
        return
    treatment = db.session.get(Treatment, treatment_id)
    assert treatment is not None
    route = task_module(treatment.task_type).route
    payload = build_payload(treatment)
    delays = list(current_app.config["LAUNCH_RETRY_DELAYS"])
    while True:
        try:
            tracking_id = api.start(route, payload)
        except api.TransientAPIError as exc:
            if not delays:
                treatment.fail(f"{exc} Gave up after {treatment.attempts + 1} attempts.")
                break
            delay = delays.pop(0)
            treatment.move_to(Status.RETRYING, f"{exc} Trying again in {delay:g} s.")
            db.session.commit()
            publish_treatment(treatment)
            time.sleep(delay)
            db.session.refresh(treatment)
            if treatment.state.is_terminal:  # cancelled while waiting
                return
        except api.APIError as exc:
            treatment.fail(str(exc))
            break
        else:
            db.session.refresh(treatment)
            log.info("the processing API accepted it as %s", tracking_id)
            treatment.tracking_id = tracking_id
            if not treatment.move_to(Status.STARTED, "The processing API accepted the work."):
                # Cancelled while the start request was on its way: stop it there too.
                _cancel_quietly(route, tracking_id)
            break
    db.session.commit()
    publish_treatment(treatment)
    conclude_if_ended(treatment)


def _cancel_quietly(route: str, tracking_id: str) -> None:
    try:
        api.cancel(route, tracking_id)
    except api.APIError:
        log.warning("could not cancel %s/%s after a cancelled launch", route, tracking_id)
