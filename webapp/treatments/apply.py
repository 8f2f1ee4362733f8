"""Apply a recorded notification to its treatment: results, progress, the end (DESIGN 4)."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db, get_queue, redis_client
from webapp.http import fetch
from webapp.lifecycle import Status
from webapp.live.publish import publish_treatment
from webapp.logs import about_treatment
from webapp.task_modules.base import TaskModule
from webapp.task_modules.registry import task_module
from webapp.treatments.completion import conclude_if_ended
from webapp.treatments.models import Treatment, TreatmentEvent

log = logging.getLogger(__name__)

NO_MESSAGE = "The processing API reported an error without saying which."


def fetch_result(url: Any) -> bytes:
    """A result file, only from the allowed hosts, with a timeout and a size cap."""
    if not isinstance(url, str):
        raise UserError("The notification gives no result URL.")
    host = urlsplit(url).hostname or ""
    if host not in current_app.config["RESULT_HOSTS"]:
        raise UserError(f"Result files are not fetched from {host or url!r}: not an allowed host.")
    content, _ = fetch(
        url,
        max_bytes=current_app.config["RESULT_MAX_MB"] * 1_000_000,
        timeout=current_app.config["API_TIMEOUT"],
    )
    return content


def _text(value: Any) -> str:
    if value is None or (isinstance(value, str) and value.strip() in {"", "None", "null"}):
        return ""
    if isinstance(value, list):
        return "; ".join(filter(None, (_text(v) for v in value)))
    return str(value).strip()[:2000]


def _add_error(treatment: Treatment, error: str) -> None:
    if error and error not in treatment.document_errors:
        treatment.document_errors = [*treatment.document_errors, error]


def _results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    output = payload.get("output")
    items = output.get("results_url") if isinstance(output, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def store_results(treatment: Treatment, module: TaskModule, items: list[dict[str, Any]]) -> None:
    """Fetch and store each document's results once; a failure is that document's error."""
    for item in items:
        uid = item.get("doc_id") or item.get("doc_pair")
        if not isinstance(uid, str) or uid == "dataset" or uid in treatment.done_documents:
            continue
        try:
            module.process_results(treatment, uid, fetch_result(item.get("result_url")))
        except UserError as exc:
            _add_error(treatment, f"{uid}: {exc}")
            continue
        treatment.done_documents = [*treatment.done_documents, uid]


def _progress(treatment: Treatment, payload: dict[str, Any]) -> None:
    progress = payload.get("progress")
    if isinstance(progress, dict):
        current, total = progress.get("current"), progress.get("total")
        if isinstance(current, int) and isinstance(total, int) and 0 <= current <= total:
            treatment.api_current, treatment.api_total = current, total


def _conclude(treatment: Treatment) -> None:
    """SUCCESS when results were stored (errors listed); ERROR when every document failed."""
    if treatment.done_documents or not treatment.document_errors:
        errors = len(treatment.document_errors)
        treatment.move_to(
            Status.SUCCESS,
            f"Done: results for {treatment.docs_done} document(s)"
            + (f", {errors} error(s)." if errors else "."),
        )
    else:
        treatment.fail("Every document failed: " + "; ".join(treatment.document_errors[:3]))


def _apply(treatment: Treatment, event: TreatmentEvent) -> None:
    module = task_module(treatment.task_type)
    payload = event.payload
    if event.event == "STARTED":
        treatment.move_to(Status.IN_PROGRESS, "The processing API is working on it.")
    elif event.event == "PROGRESS":
        treatment.move_to(Status.IN_PROGRESS)
        _progress(treatment, payload)
        store_results(treatment, module, _results(payload))
    elif event.event == "SUCCESS":
        _progress(treatment, payload)
        output = payload.get("output")
        errors = output.get("error") if isinstance(output, dict) else None
        for error in errors if isinstance(errors, list) else [errors]:
            _add_error(treatment, _text(error))
        store_results(treatment, module, _results(payload))
        _conclude(treatment)
    elif event.event == "ERROR":
        text = _text(payload.get("error")) or _text(payload.get("message")) or NO_MESSAGE
        if payload.get("completed") is False:
            _add_error(treatment, text)
        else:
            treatment.fail(text)
    else:
        event.outcome = f"Unknown event {event.event!r}: kept, not applied."
    treatment.touch()


def _pending_key(treatment_id: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:events:{treatment_id}"


def schedule_events(treatment_id: str) -> None:
    """Queue an `apply_events` job unless one is already waiting for this treatment.

    The Redis key holds the waiting job's id; the job clears it before it reads the events, so
    an event recorded after that queues the next job. If Redis is down, the events stay in the
    database and the clock's dispatcher schedules them later.
    """
    job_id = f"events-{uuid.uuid4().hex}"
    try:
        if redis_client().set(_pending_key(treatment_id), job_id, nx=True, ex=3600):
            get_queue().enqueue(apply_events, treatment_id, job_id=job_id)
    except RedisError:
        log.exception("could not queue the events of %s; the dispatcher will", treatment_id)


def pending_job_id(treatment_id: str) -> str | None:
    value = redis_client().get(_pending_key(treatment_id))
    return value.decode() if isinstance(value, bytes) else None


def forget_pending_job(treatment_id: str) -> None:
    redis_client().delete(_pending_key(treatment_id))


def _apply_one(treatment_id: str, event_id: int) -> Treatment:
    """Apply one event under a lock on its treatment; any failure ends it in ERROR."""
    treatment = db.session.scalar(
        select(Treatment).where(Treatment.id == treatment_id).with_for_update()
    )
    event = db.session.get(TreatmentEvent, event_id)
    assert treatment is not None
    assert event is not None
    if event.processed_at is None:
        try:
            _apply(treatment, event)
        except Exception:
            log.exception("event %s of treatment %s could not be applied", event_id, treatment_id)
            db.session.rollback()
            treatment = db.session.get(Treatment, treatment_id)
            event = db.session.get(TreatmentEvent, event_id)
            assert treatment is not None
            assert event is not None
            treatment.fail("Processing the results failed; the error has been logged.")
            event.outcome = "failed"
        event.processed_at = utcnow()
    db.session.commit()
    publish_treatment(treatment)
    return treatment


@about_treatment
def apply_events(treatment_id: str) -> None:
    """RQ job: apply a treatment's recorded events, in the order they arrived."""
    forget_pending_job(treatment_id)
    pending = list(
        db.session.scalars(
            select(TreatmentEvent.id)
            .where(
                TreatmentEvent.treatment_id == treatment_id, TreatmentEvent.processed_at.is_(None)
            )
            .order_by(TreatmentEvent.id)
        )
    )
    treatment = None
    for event_id in pending:
        treatment = _apply_one(treatment_id, event_id)
    if treatment is not None:
        conclude_if_ended(treatment)
