"""Completion emails are never lost and never doubled: an outbox row per ending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select, update

from tests.conftest import Mailbox, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.provision import free_port
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.treatments import completion
from webapp.treatments.clock import dispatch
from webapp.treatments.completion import CompletionEmail, retry_delay


def _outbox() -> list[CompletionEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(CompletionEmail)))


def _due_now() -> None:
    db.session.execute(update(CompletionEmail).values(due_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_an_email_waits_for_the_smtp_server_and_is_sent_once_it_is_back(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setattr(app.extensions["mail"], "port", port)  # SMTP is down
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "SUCCESS", success=True)
    run_jobs()
    (email,) = _outbox()
    assert (email.sent_at, email.attempts) == (None, 1)
    assert email.due_at > utcnow() + timedelta(seconds=20)  # backoff, not a tight loop
    assert dispatch() == 0  # not due yet
    _due_now()
    assert dispatch() == 1
    run_jobs()  # still down
    (email,) = _outbox()
    assert (email.sent_at, email.attempts) == (None, 2)

    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        _due_now()
        assert dispatch() == 1
        run_jobs()
        notify(client, treatment, "SUCCESS", success=True, msg_id="late-copy")
        run_jobs()
        _due_now()
        assert dispatch() == 0  # sent: never again
        run_jobs()
    finally:
        server.stop()
    assert len(mailbox.messages) == 1
    assert "Succeeded" in mailbox.messages[0]["Subject"]
    (email,) = _outbox()
    assert email.sent_at is not None
    assert email.attempts == 3


def test_an_ending_while_redis_is_down_still_gets_its_email(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    treatment = launch(client, make_set(logged_in))

    def redis_down(*args: object, **kwargs: object) -> None:
        raise RedisConnectionError("Redis is down")

    with monkeypatch.context() as patched:
        patched.setattr(completion, "get_queue", redis_down)
        notify(client, treatment, "ERROR", error="boom")
        run_jobs()
    assert mailbox.messages == []
    (email,) = _outbox()
    assert email.sent_at is None
    assert dispatch() == 1  # the clock queues it
    run_jobs()
    assert len(mailbox.messages) == 1
    assert _outbox()[0].sent_at is not None


def test_two_senders_of_one_email_send_it_once(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "SUCCESS", success=True)
    run_jobs()
    (email,) = _outbox()
    completion.send_completion_email(email.id)
    completion.send_completion_email(email.id)
    assert len(mailbox.messages) == 1


def test_retry_delays_grow_to_a_ceiling(app: Flask) -> None:
    with app.app_context():
        assert [retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
        assert retry_delay(50) == app.config["EMAIL_RETRY_MAX_SECONDS"]
