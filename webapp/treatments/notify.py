"""`POST /<task>/notify`: verify, record and acknowledge quickly; the work happens in a job."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from webapp.columns import utcnow
from webapp.extensions import csrf, db
from webapp.security import public
from webapp.task_modules.registry import task_modules
from webapp.treatments.apply import schedule_events
from webapp.treatments.models import Treatment, TreatmentEvent
from webapp.treatments.signing import has_signature, signature_is_valid, token_is_valid

log = logging.getLogger(__name__)

bp = Blueprint("notifications", __name__)


def _reply(code: int, message: str, **extra: Any) -> ResponseReturnValue:
    return jsonify(message=message, **extra), code


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    return _reply(error.code or 500, error.description or error.name)


@bp.errorhandler(Exception)
def unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("notification failed unexpectedly")
    db.session.rollback()
    return _reply(500, "The notification could not be handled; send it again later.")


@bp.errorhandler(OperationalError)
def database_down(error: OperationalError) -> ResponseReturnValue:
    log.exception("database unavailable while receiving a notification")
    db.session.rollback()
    return _reply(503, "The database is unavailable; send it again later.")


def _payload(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("event"), str) or not isinstance(data.get("experiment_id"), str):
        return None
    return data


@bp.post("/<task>/notify")
@public()
@csrf.exempt
def notify(task: str) -> ResponseReturnValue:
    if task not in task_modules():
        return _reply(404, f"No task {task!r} here.")
    request.max_content_length = current_app.config["NOTIFY_MAX_BYTES"]
    raw = request.get_data(cache=True)  # 413 past the limit
    data = _payload(raw)
    if data is None:
        return _reply(
            400, "The body must be a JSON object with string `event` and `experiment_id`."
        )
    headers = {key.lower(): value for key, value in request.headers.items()}
    token = request.args.get("token", "")
    if not has_signature(headers) and not token:
        return _reply(401, "Sign the notification or put the treatment's token in the URL.")
    treatment_id = data["experiment_id"]
    if not (signature_is_valid(raw, headers) or (token and token_is_valid(treatment_id, token))):
        return _reply(403, "Wrong or stale credentials.")
    task_type = db.session.scalar(select(Treatment.task_type).where(Treatment.id == treatment_id))
    if task_type != task:
        return _reply(404, "No such treatment.")
    event_id = record_event(
        treatment_id, data, headers.get("webhook-id") or hashlib.sha256(raw).hexdigest()
    )
    if event_id is None:
        return _reply(200, "Already received.", duplicate=True)
    schedule_events(treatment_id)
    return _reply(200, "Received.", duplicate=False)


def record_event(treatment_id: str, data: dict[str, Any], dedupe_key: str) -> int | None:
    """Keep the event once: a single INSERT that a duplicate turns into nothing (no id)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(TreatmentEvent)
        .values(
            treatment_id=treatment_id,
            event=data["event"][:30].upper(),
            dedupe_key=dedupe_key[:200],
            payload=data,
            received_at=utcnow(),
            outcome="",
        )
        .on_conflict_do_nothing(index_elements=["treatment_id", "dedupe_key"])
        .returning(TreatmentEvent.id)
    )
    event_id = db.session.scalar(stmt)
    db.session.commit()
    return event_id
