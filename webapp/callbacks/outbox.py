"""Callbacks from their outbox: written with the ending they report, delivered by a job with
a lease (so that two jobs never send one both), tried again by the clock with a growing
delay, signed anew at every attempt (Standard Webhooks) with the owner's secret."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import inspect, select
from sqlalchemy.sql.elements import ColumnElement

from outbound import redacted
from outbound.webhooks import Outcome, backoff, deliver, signed_headers
from webapp.auth.models import User
from webapp.callbacks.models import CallbackDelivery
from webapp.callbacks.signing import secret_of
from webapp.columns import utcnow
from webapp.extensions import db, get_queue
from webapp.http import USER_AGENT, outbound_policy
from webapp.leases import lease_free, take_lease

log = logging.getLogger(__name__)

# What a receiver answers is read only to be shown.
ANSWER_MAX_BYTES = 64 * 1024


def _work_id(work: Any) -> str:
    identity = inspect(work).identity
    assert identity is not None, "only stored work ends"
    return str(identity[0])


def _column(kind: str) -> str:
    return f"{kind}_id"


def summary(work: Any, status: str, text: str) -> dict[str, Any]:
    """What a callback says of ended work (its row may not show the ending yet: it is being
    written in this transaction)."""
    return {
        "type": f"{work.work_kind}.ended",
        "timestamp": utcnow().isoformat(),
        "data": {
            "id": _work_id(work),
            "kind": work.work_kind,
            "status": status,
            "message": text,
            "counts": work.callback_counts(),
            "links": work.callback_links(),
        },
    }


def record_callback(work: Any, target: Any, text: str) -> None:
    """Inside the ending's transaction: the callback's outbox row."""
    body = json.dumps(summary(work, target.value, text), default=str)
    db.session.add(
        CallbackDelivery(
            **{_column(work.work_kind): _work_id(work)},
            url=work.callback_url,
            webhook_id=f"msg_{uuid.uuid4().hex}",
            body=body,
        )
    )


def _job_id(delivery_id: int, attempt: int) -> str:
    return f"callback-{delivery_id}-{attempt}"


def queue_delivery(delivery: CallbackDelivery) -> None:
    """Best effort: if Redis is down, the clock queues it later."""
    try:
        get_queue().enqueue(
            deliver_callback, delivery.id, job_id=_job_id(delivery.id, delivery.attempts)
        )
    except RedisError:
        log.warning("could not queue callback %s; the clock will", delivery.id)


def queue_callbacks(work: Any) -> None:
    """After the ending is committed: send its callback now."""
    column = getattr(CallbackDelivery, _column(work.work_kind))
    for delivery in db.session.scalars(
        select(CallbackDelivery).where(column == _work_id(work), _waiting())
    ):
        queue_delivery(delivery)


def _waiting() -> ColumnElement[bool]:
    return CallbackDelivery.delivered_at.is_(None) & CallbackDelivery.given_up_at.is_(None)


def _unclaimed() -> ColumnElement[bool]:
    return lease_free(CallbackDelivery, current_app.config["CALLBACK_LEASE_SECONDS"])


def _claim(delivery_id: int) -> bool:
    """Take the delivery with a lease, so that one job sends it."""
    lease = current_app.config["CALLBACK_LEASE_SECONDS"]
    return take_lease(CallbackDelivery, delivery_id, lease, _waiting())


def work_of(delivery: CallbackDelivery) -> Any:
    """The work a delivery reports (None once deleted)."""
    from webapp.tasks.models import Task
    from webapp.treatments.models import Treatment
    from webapp.workflows.models import Workflow

    for model in (Treatment, Task, Workflow):
        ident = getattr(delivery, _column(model.work_kind))
        if ident:
            return db.session.get(model, ident)
    return None


def deliver_callback(delivery_id: int) -> None:
    """RQ job: one attempt; delivered only on a 2xx answer."""
    if not _claim(delivery_id):
        return
    delivery = db.session.get(CallbackDelivery, delivery_id)
    assert delivery is not None
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    headers |= signed_headers(
        secret_of(work_of(delivery).owner), delivery.webhook_id, delivery.body
    )
    db.session.commit()  # a secret made just now is kept before anyone could verify with it
    rules = outbound_policy(ANSWER_MAX_BYTES, current_app.config["CALLBACK_TIMEOUT_SECONDS"])
    _record(delivery, deliver(delivery.url, delivery.body, headers, rules))


def _record(delivery: CallbackDelivery, outcome: Outcome) -> None:
    config = current_app.config
    now = utcnow()
    delivery.attempts += 1
    delivery.last_status = outcome.status
    delivery.last_error = "" if outcome.delivered else outcome.detail[:1000]
    delivery.claimed_at = None
    horizon = delivery.created_at + timedelta(hours=config["CALLBACK_RETRY_HOURS"])
    if outcome.delivered:
        delivery.delivered_at = now
    elif not outcome.retry or now >= horizon:
        delivery.given_up_at = now
        log.error(
            "callback %s to %s given up after %d attempt(s): %s",
            delivery.id,
            redacted(delivery.url),
            delivery.attempts,
            outcome.detail,
        )
    else:
        delay = backoff(
            delivery.attempts,
            config["CALLBACK_FIRST_DELAY_SECONDS"],
            config["CALLBACK_MAX_DELAY_SECONDS"],
        )
        delivery.due_at = now + timedelta(seconds=max(delay, outcome.retry_after))
        log.warning(
            "callback %s to %s failed (attempt %d), next at %s: %s",
            delivery.id,
            redacted(delivery.url),
            delivery.attempts,
            delivery.due_at.isoformat(),
            outcome.detail,
        )
    db.session.commit()


def send_again(delivery: CallbackDelivery, by: User) -> CallbackDelivery:
    """A copy of the delivery, sent now: the same message (its `webhook-id` too, so that a
    receiver that had it already can tell), whatever became of the first."""
    copy = CallbackDelivery(
        treatment_id=delivery.treatment_id,
        task_id=delivery.task_id,
        workflow_id=delivery.workflow_id,
        url=delivery.url,
        webhook_id=delivery.webhook_id,
        body=delivery.body,
        resent_by_id=by.id,
    )
    db.session.add(copy)
    db.session.commit()
    queue_delivery(copy)
    return copy


def dispatch_callbacks() -> int:
    """The clock's part: queue every waiting delivery that is due and not being sent."""
    due = list(
        db.session.scalars(
            select(CallbackDelivery).where(
                _waiting(), _unclaimed(), CallbackDelivery.due_at <= utcnow()
            )
        )
    )
    for delivery in due:
        queue_delivery(delivery)
    return len(due)


def deliveries_of(column: str, work_id: str) -> list[CallbackDelivery]:
    """A work's deliveries, newest first."""
    return list(
        db.session.scalars(
            select(CallbackDelivery)
            .where(getattr(CallbackDelivery, column) == work_id)
            .order_by(CallbackDelivery.id.desc())
        )
    )
