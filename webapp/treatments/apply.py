"""Apply a recorded notification to its treatment: results, progress, the end (DESIGN 4).

Result files are downloaded first, outside the treatment's row lock; then, under the lock, the
results are stored and the move the event asks for goes through the lifecycle's transition.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job
from sqlalchemy import select

from outbound import on_hosts, parse_hosts
from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db, get_queue, redis_client
from webapp.http import api_credentials, fetch
from webapp.lifecycle import Status, lock, transition, would_move
from webapp.live.publish import publish_treatment, send_update, treatment_update
from webapp.logs import about_treatment
from webapp.readable import as_text, readable_error
from webapp.task_modules.base import TaskModule
from webapp.task_modules.registry import task_module
from webapp.treatments.models import Treatment, TreatmentEvent

log = logging.getLogger(__name__)

NO_MESSAGE = "The processing API reported an error without saying which."


def fetch_result(url: Any) -> bytes:
    """A result file, only from the allowed hosts (each redirect too), under the outbound
    policy, with a time budget and a size cap."""
    if not isinstance(url, str):
        raise UserError("The notification gives no result URL.")
    content, _ = fetch(
        url,
        max_bytes=current_app.config["RESULT_MAX_MB"] * 1_000_000,
        timeout=current_app.config["API_TIMEOUT"],
        accept=partial(on_hosts, rules=parse_hosts(current_app.config["RESULT_HOSTS"])),
        headers=api_credentials() if _on_api(url) else None,
    )
    return content


def _on_api(url: str) -> bool:
    api_url: str = current_app.config["API_URL"]
    return urlsplit(url)[:2] == urlsplit(api_url)[:2]


Move = tuple[Status, str | None]
FAILED_TO_APPLY = "Processing the results failed; the error has been logged."


def _add_error(treatment: Treatment, error: str) -> None:
    if error and error not in treatment.document_errors:
        treatment.document_errors = [*treatment.document_errors, error]


def _results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    output = payload.get("output")
    items = output.get("results_url") if isinstance(output, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _item_uid(item: dict[str, Any]) -> str | None:
    uid = item.get("doc_id") or item.get("doc_pair")
    return uid if isinstance(uid, str) and uid != "dataset" else None


def sanitised(uid: str) -> str:
    """A document uid as AIKON's API rewrites it."""
    for character in ".:% ":
        uid = uid.replace(character, "")
    return uid.replace("/", "^")


def own_uid(treatment: Treatment, uid: str) -> str | None:
    """The treatment's own name for a document (or a pair `a-b` of them), or None if not its."""
    known = {sanitised(u): u for u in treatment.document_uids} | {
        u: u for u in treatment.document_uids
    }
    if uid in known:
        return known[uid]
    parts = [known.get(part) for part in uid.split("-")]
    return "-".join(p for p in parts if p) if parts and all(parts) else None


def download_results(treatment: Treatment, event: TreatmentEvent) -> dict[str, bytes | str]:
    """Every result file the event names and the treatment still needs: its bytes, or why not."""
    files: dict[str, bytes | str] = {}
    for item in _results(event.payload):
        uid = _item_uid(item)
        if uid is None or own_uid(treatment, uid) in (None, *treatment.done_documents):
            continue
        try:
            files[uid] = fetch_result(item.get("result_url"))
        except UserError as exc:
            files[uid] = str(exc)
    return files


def store_results(
    treatment: Treatment, module: TaskModule, items: list[dict[str, Any]], files: dict[str, Any]
) -> None:
    """Store each document's results once; a failure is that document's error."""
    for item in items:
        uid = _item_uid(item)
        if uid is None:
            continue
        own = own_uid(treatment, uid)
        if own is None:
            _add_error(treatment, f"{uid}: not a document of this treatment; results refused.")
            continue
        if own in treatment.done_documents:
            continue
        # Downloaded before the lock was taken: no I/O happens while the row is held.
        content = files.get(uid)
        if content is None:
            continue
        if isinstance(content, str):
            _add_error(treatment, f"{own}: {content}")
            continue
        try:
            for error in module.process_results(treatment, own, content).errors:
                _add_error(treatment, f"{own}: {error}")
        except UserError as exc:
            _add_error(treatment, f"{own}: {exc}")
            continue
        treatment.done_documents = [*treatment.done_documents, own]


def _progress(treatment: Treatment, payload: dict[str, Any]) -> None:
    progress = payload.get("progress")
    if isinstance(progress, dict):
        current, total = progress.get("current"), progress.get("total")
        if isinstance(current, int) and isinstance(total, int) and 0 <= current <= total:
            treatment.api_current, treatment.api_total = current, total


def conclusion(treatment: Treatment) -> Move:
    """SUCCESS when results were stored (errors listed); ERROR when every document failed."""
    if treatment.done_documents or not treatment.document_errors:
        errors = len(treatment.document_errors)
        return (
            Status.SUCCESS,
            f"Done: results for {treatment.progress_text}"
            + (f", {errors} error(s)." if errors else "."),
        )
    return Status.ERROR, "Every document failed: " + "; ".join(treatment.document_errors[:3])


def document_error(treatment: Treatment, raw: Any) -> str:
    """One readable line that names the document, found in the full text if need be."""
    line = readable_error(raw)
    if any(uid in line for uid in treatment.document_uids):
        return line
    full = as_text(raw)
    named = [u for u in treatment.document_uids if u in full or sanitised(u) in full]
    return f"{named[0]}: {line}" if named else line


def _apply(treatment: Treatment, event: TreatmentEvent, files: dict[str, Any]) -> Move | None:
    """Apply one event's content; return the move it asks for."""
    module = task_module(treatment.task_type)
    payload = event.payload
    if event.event == "STARTED":
        return Status.IN_PROGRESS, "The processing API is working on it."
    if event.event == "PROGRESS":
        _progress(treatment, payload)
        store_results(treatment, module, _results(payload), files)
        return Status.IN_PROGRESS, None
    if event.event == "SUCCESS":
        _progress(treatment, payload)
        output = payload.get("output")
        errors = output.get("error") if isinstance(output, dict) else None
        for error in errors if isinstance(errors, list) else [errors]:
            if as_text(error):
                _add_error(treatment, document_error(treatment, error))
        store_results(treatment, module, _results(payload), files)
        return conclusion(treatment)
    if event.event == "ERROR":
        raw = payload.get("error") or payload.get("message")
        if payload.get("completed") is False:
            _add_error(treatment, document_error(treatment, raw or NO_MESSAGE))
            return None
        return Status.ERROR, readable_error(raw) or NO_MESSAGE
    event.outcome = f"Unknown event {event.event!r}: kept, not applied."
    return None


def refusal(tracking_id: str | None, payload: dict[str, Any]) -> str | None:
    """Why an event from another run of the API must have no effect, if it is one."""
    theirs = payload.get("tracking_id")
    if tracking_id and isinstance(theirs, str) and theirs != tracking_id:
        return (
            f"Refused: it comes from another run (tracking id {theirs[:80]!r}, "
            f"this treatment's is {tracking_id!r})."
        )
    return None


def _ends(event: TreatmentEvent) -> bool:
    return event.event == "SUCCESS" or (
        event.event == "ERROR" and event.payload.get("completed") is not False
    )


def _apply_one(treatment_id: str, event_id: int) -> None:
    """Apply one event: downloads first, then the rest under a lock on its treatment."""
    event = db.session.get(TreatmentEvent, event_id)
    if event is None or event.processed_at is not None:
        return
    files: dict[str, bytes | str] = {}
    if _results(event.payload):
        # Downloads happen before the lock is taken: no I/O while the row is held.
        treatment = db.session.get(Treatment, treatment_id)
        if treatment is None:
            return
        if not refusal(treatment.tracking_id, event.payload):
            files = download_results(treatment, event)
        db.session.commit()
    treatment = lock(Treatment, treatment_id)
    if treatment is None:
        db.session.commit()
        return
    db.session.refresh(event)
    if event.processed_at is not None:
        db.session.commit()
        return
    move: Move | None = None
    try:
        refused = refusal(treatment.tracking_id, event.payload)
        if refused:
            event.outcome = refused
        else:
            theirs = event.payload.get("tracking_id")
            if treatment.tracking_id is None and isinstance(theirs, str) and theirs:
                # A launch cut short after the API accepted it: the run names itself here.
                treatment.tracking_id = theirs[:200]
            move = _apply(treatment, event, files)
    except Exception:
        log.exception("event %s of treatment %s could not be applied", event_id, treatment_id)
        db.session.rollback()
        treatment = lock(Treatment, treatment_id)
        db.session.refresh(event)
        event.outcome = "Refused: it could not be applied; the error has been logged."
        if _ends(event):
            move = Status.ERROR, FAILED_TO_APPLY
        else:
            _add_error(treatment, "A notification could not be applied; the error has been logged.")
    event.processed_at = utcnow()
    treatment.touch()
    if move is not None and would_move(treatment, move[0]):
        target, text = move
        if target is Status.ERROR:
            moved = transition(treatment, target, error=text, cause=event)
        else:
            moved = transition(treatment, target, text, cause=event)
        if not moved:
            publish_treatment(treatment)
        return  # a move tells the pages itself, once committed
    # Rendered in the transaction that stores it: the pages get what is committed, without
    # loading it all again after the commit.
    update = treatment_update(treatment)
    db.session.commit()
    send_update(update)


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


def _running_key(treatment_id: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:events-running:{treatment_id}"


def events_jobs(treatment_id: str) -> list[str]:
    """The ids of the job waiting to apply the treatment's events and of the one applying them."""
    keys = [_pending_key(treatment_id), _running_key(treatment_id)]
    values = cast(list[Any], redis_client().mget(keys))
    return [value.decode() for value in values if isinstance(value, bytes)]


def forget_pending_job(treatment_id: str) -> None:
    redis_client().delete(_pending_key(treatment_id))


@about_treatment
def apply_events(treatment_id: str) -> None:
    """RQ job: apply a treatment's recorded events, in the order they arrived."""
    job = get_current_job()
    if job is not None:  # the clock sees that these events are being applied
        redis_client().set(_running_key(treatment_id), job.id, ex=3600)
    forget_pending_job(treatment_id)
    try:
        _apply_pending(treatment_id)
    finally:
        if job is not None:
            redis_client().delete(_running_key(treatment_id))


def _apply_pending(treatment_id: str) -> None:
    pending = list(
        db.session.scalars(
            select(TreatmentEvent.id)
            .where(
                TreatmentEvent.treatment_id == treatment_id, TreatmentEvent.processed_at.is_(None)
            )
            .order_by(TreatmentEvent.id)
        )
    )
    for event_id in pending:
        _apply_one(treatment_id, event_id)
    treatment = db.session.get(Treatment, treatment_id)
    if pending and treatment is not None and treatment.workflow_id:
        from webapp.workflows.flow import flow_from

        # A later step of its workflow runs on each document as soon as its results are in.
        flow_from(treatment)
