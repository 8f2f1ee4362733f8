"""Notifications that are never lost: written to the outbox in the same transaction as the
state they report, then delivered in order per job, signed anew at every attempt (Standard
Webhooks, the same `webhook-id` each time), with exponential backoff."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select

from outbound import redacted
from outbound.webhooks import Outcome, backoff, deliver, signed_headers
from processor.models import Job, OutboxMessage, db, new_id
from processor.sources import USER_AGENT, policy

log = logging.getLogger(__name__)

# What a receiver answers is read only to be logged.
ANSWER_MAX_BYTES = 64 * 1024


def notify(job: Job, event: str, **fields: Any) -> None:
    """Add a notification to the session; it is sent once the caller commits."""
    body = {"event": event, "tracking_id": job.tracking_id, "experiment_id": job.experiment_id}
    db.session.add(
        OutboxMessage(
            webhook_id=f"msg_{new_id()}",
            tracking_id=job.tracking_id,
            url=job.notify_url,
            body=json.dumps({**body, **fields}),
        )
    )


def _headers(message: OutboxMessage) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    secret = current_app.config["WEBHOOK_SECRET"]
    if secret:
        headers |= signed_headers(secret, message.webhook_id, message.body)
    return headers


def due_messages(exclude: set[str], limit: int = 100) -> list[OutboxMessage]:
    """The oldest undelivered message of each job, when its time has come."""
    pending = and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.given_up_at.is_(None))
    heads = (
        select(func.min(OutboxMessage.id).label("id"))
        .where(pending)
        .group_by(OutboxMessage.tracking_id)
        .subquery()
    )
    stmt = (
        select(OutboxMessage)
        .join(heads, heads.c.id == OutboxMessage.id)
        .where(OutboxMessage.next_attempt_at <= time.time())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [m for m in db.session.scalars(stmt) if m.tracking_id not in exclude]


def record(message: OutboxMessage, outcome: Outcome) -> None:
    config = current_app.config
    now = time.time()
    message.attempts += 1
    message.last_error = None if outcome.delivered else outcome.detail
    if outcome.delivered:
        message.delivered_at = now
    elif not outcome.retry:
        message.given_up_at = now
        log.error(
            "notification %s to %s refused: %s",
            message.webhook_id,
            redacted(message.url),
            outcome.detail,
        )
    elif now - message.created_at > config["OUTBOX_RETRY_SECONDS"]:
        message.given_up_at = now
        log.error(
            "notification %s to %s given up after %d attempts: %s",
            message.webhook_id,
            redacted(message.url),
            message.attempts,
            outcome.detail,
        )
    else:
        delay = backoff(message.attempts, config["OUTBOX_FIRST_DELAY"], config["OUTBOX_MAX_DELAY"])
        message.next_attempt_at = now + max(delay, outcome.retry_after)
        log.warning(
            "notification %s to %s failed (attempt %d), next in %.0f s: %s",
            message.webhook_id,
            redacted(message.url),
            message.attempts,
            message.next_attempt_at - now,
            outcome.detail,
        )


class Sender:
    """Delivers due messages on a few threads, one message per job at a time, so that each
    job's notifications arrive in order while a slow receiver holds up no other job."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(current_app.config["OUTBOX_SENDERS"])
        self.in_flight: dict[str, tuple[int, Future[Outcome]]] = {}

    def collect(self) -> None:
        """Record the deliveries that have ended."""
        for tracking_id, (message_id, future) in list(self.in_flight.items()):
            if future.done():
                del self.in_flight[tracking_id]
                message = db.session.get(OutboxMessage, message_id)
                if message is not None:
                    record(message, future.result())
        db.session.commit()

    def step(self) -> int:
        """Record ended deliveries and start the due ones; returns how many are under way."""
        self.collect()
        rules = policy(ANSWER_MAX_BYTES, current_app.config["OUTBOX_TIMEOUT"])
        for message in due_messages(set(self.in_flight)):
            future = self.pool.submit(deliver, message.url, message.body, _headers(message), rules)
            self.in_flight[message.tracking_id] = (message.id, future)
        db.session.commit()
        return len(self.in_flight)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.collect()
