"""`POST /<task>/notify`: verify, record and acknowledge quickly; the work happens in a job."""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from typing import Any, cast

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Insert, Table, bindparam, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from webapp.columns import utcnow
from webapp.extensions import csrf, db
from webapp.security import public
from webapp.storable import Unstorable, storable_json
from webapp.task_modules.registry import task_modules
from webapp.treatments.apply import refusal, schedule_events
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


def _payload(raw: bytes) -> dict[str, Any]:
    """The notification, or a ValueError saying what makes it unusable."""
    data = storable_json(raw)
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    if not isinstance(data.get("event"), str) or not isinstance(data.get("experiment_id"), str):
        raise ValueError("The body must have string `event` and `experiment_id`.")
    return data


@bp.post("/<task>/notify")
@public()
@csrf.exempt
def notify(task: str) -> ResponseReturnValue:
    if task not in task_modules():
        return _reply(404, f"No task {task!r} here.")
    request.max_content_length = current_app.config["NOTIFY_MAX_BYTES"]
    raw = request.get_data(cache=True)  # 413 past the limit
    try:
        data = _payload(raw)
    except Unstorable as exc:
        return _reply(400, f"The notification cannot be stored: {exc}")
    except ValueError as exc:
        return _reply(400, str(exc))
    headers = {key.lower(): value for key, value in request.headers.items()}
    token = request.args.get("token", "")
    if not has_signature(headers) and not token:
        return _reply(401, "Sign the notification or put the treatment's token in the URL.")
    treatment_id = data["experiment_id"]
    if not (signature_is_valid(raw, headers) or (token and token_is_valid(treatment_id, token))):
        return _reply(403, "Wrong or stale credentials.")
    dedupe_key = headers.get("webhook-id") or hashlib.sha256(raw).hexdigest()
    recorded = record_event(task, treatment_id, data, dedupe_key)
    if recorded is None:
        return _already_received(task, treatment_id, data)
    event_id, tracking_id = recorded
    refused = refusal(tracking_id, data)
    if refused:
        # Kept too, as done, with the reason: the history shows what came.
        db.session.execute(
            update(TreatmentEvent)
            .where(TreatmentEvent.id == event_id)
            .values(processed_at=utcnow(), outcome=refused)
        )
        db.session.commit()
        return _reply(409, refused)
    schedule_events(treatment_id)
    return _reply(200, "Received.", duplicate=False)


def _already_received(task: str, treatment_id: str, data: dict[str, Any]) -> ResponseReturnValue:
    """Nothing was recorded: the treatment is not there, or the event was already."""
    treatment = db.session.execute(
        select(Treatment.task_type, Treatment.tracking_id).where(Treatment.id == treatment_id)
    ).first()
    db.session.commit()
    if treatment is None or treatment.task_type != task:
        return _reply(404, "No such treatment.")
    refused = refusal(treatment.tracking_id, data)
    if refused:
        return _reply(409, refused)
    return _reply(200, "Already received.", duplicate=True)


def record_event(
    task: str, treatment_id: str, data: dict[str, Any], dedupe_key: str
) -> tuple[int, str | None] | None:
    """Keep the event once, if its treatment is there and runs that task: one INSERT that an
    unknown treatment or a duplicate turns into nothing. Returns the event's id and the
    treatment's tracking id.

    One statement needs no transaction around it: in autocommit it costs one round trip to
    the database instead of three (BEGIN, INSERT, COMMIT), on the busiest request there is.
    """
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        row = connection.execute(
            _recording(connection.dialect.name),
            {
                "id": treatment_id,
                "task": task,
                "event": data["event"][:30].upper(),
                "dedupe_key": dedupe_key[:200],
                "payload": data,
                "received_at": utcnow(),
            },
        ).first()
    return None if row is None else (row.id, row.tracking_id)


@cache
def _recording(dialect: str) -> Insert:
    """Built once: a notification is the most frequent request, and building the statement
    (or going through the ORM's unit of work) cost more than the database did."""
    events, treatments = cast(Table, TreatmentEvent.__table__), Treatment.__table__
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # RETURNING sees only the inserted row: the tracking id comes from a subquery on it,
    # named by hand because a subquery cannot correlate with an INSERT's target.
    owner = treatments.alias("owner")
    tracking_id = select(owner.c.tracking_id).where(
        owner.c.id == literal_column("treatment_events.treatment_id")
    )
    return (
        insert(events)
        .from_select(
            ["treatment_id", "event", "dedupe_key", "payload", "received_at"],
            select(
                treatments.c.id,
                bindparam("event", type_=events.c.event.type),
                bindparam("dedupe_key", type_=events.c.dedupe_key.type),
                bindparam("payload", type_=events.c.payload.type),
                bindparam("received_at", type_=events.c.received_at.type),
            ).where(
                treatments.c.id == bindparam("id"), treatments.c.task_type == bindparam("task")
            ),
        )
        .on_conflict_do_nothing(index_elements=["treatment_id", "dedupe_key"])
        .returning(events.c.id, tracking_id.scalar_subquery().label("tracking_id"))
    )
