"""The outbox: every notification arrives once, in order per job, signed at every attempt, and
retried with backoff while the receiver is away; a refusal stops it."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from werkzeug.wrappers import Request, Response

from outbound.webhooks import Outcome
from processor.config import load_config
from processor.models import Job, OutboxMessage, db
from processor.outbox import Sender, notify, record
from tests import provision
from tests.processing_api import WEBHOOK_SECRET
from tests.processor_harness import Processor


def _job(url: str, experiment: str = "exp") -> Job:
    job = Job(task="regions", experiment_id=experiment, notify_url=url, documents=[], parameters={})
    db.session.add(job)
    db.session.commit()
    return job


def _messages(job: Job, count: int) -> None:
    for number in range(1, count + 1):
        notify(job, "PROGRESS", progress={"current": number, "total": count})
    db.session.commit()


def _pending(job: Job) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .where(OutboxMessage.tracking_id == job.tracking_id)
            .order_by(OutboxMessage.id)
        )
    )


def _wait(sender: Sender, done: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        sender.step()
        time.sleep(0.01)


def test_messages_wait_for_a_receiver_that_is_down_then_arrive_once_in_order(
    processor: Processor,
) -> None:
    port = provision.free_port()
    job = _job(f"http://localhost:{port}/notify")
    _messages(job, 3)
    sender = Sender()
    try:
        _wait(sender, lambda: _pending(job)[0].attempts >= 2)
        first, second, third = _pending(job)
        assert first.delivered_at is None
        assert "cannot be reached" in (first.last_error or "")
        assert first.next_attempt_at > time.time() - 1
        assert second.attempts == third.attempts == 0  # in order: the head goes first

        arrived: list[dict[str, object]] = []

        def receive(request: Request) -> Response:
            Webhook(WEBHOOK_SECRET).verify(request.get_data(), dict(request.headers))
            arrived.append({"id": request.headers["webhook-id"], **json.loads(request.get_data())})
            return Response("ok")

        receiver = HTTPServer(host="localhost", port=port)
        receiver.expect_request("/notify", method="POST").respond_with_handler(receive)
        receiver.start()
        try:
            _wait(sender, lambda: all(m.delivered_at for m in _pending(job)))
        finally:
            receiver.stop()
    finally:
        sender.close()
    assert [m["progress"]["current"] for m in arrived] == [1, 2, 3]  # type: ignore[index]
    assert [m["id"] for m in arrived] == [m.webhook_id for m in _pending(job)]


def test_every_attempt_is_signed_anew_with_the_same_webhook_id(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(processor.app.config, "OUTBOX_FIRST_DELAY", 1.1)
    monkeypatch.setitem(processor.app.config, "OUTBOX_MAX_DELAY", 1.1)
    processor.refusals = [503]
    _messages(_job(processor.notify_url), 1)
    processor.deliver()
    failed, delivered = processor.attempts
    assert failed["webhook-id"] == delivered["webhook-id"]
    assert failed["webhook-timestamp"] != delivered["webhook-timestamp"]
    assert failed["webhook-signature"] != delivered["webhook-signature"]
    assert len(processor.received) == 1  # and it verified: the receiver checks every signature


def test_408_and_429_are_retried_and_retry_after_is_honoured(processor: Processor) -> None:
    processor.refusals = [429, 408]
    job = _job(processor.notify_url)
    _messages(job, 1)
    processor.deliver()
    [message] = _pending(job)
    assert message.delivered_at is not None
    assert message.attempts == 3
    outcome = Outcome(delivered=False, retry=True, detail="HTTP 429", retry_after=60)
    record(message, outcome)
    assert message.next_attempt_at - time.time() > 55


def test_a_refusal_stops_the_retries_is_logged_and_the_next_message_goes(
    processor: Processor, caplog: pytest.LogCaptureFixture
) -> None:
    processor.refusals = [410]
    job = _job(processor.notify_url)
    _messages(job, 2)
    with caplog.at_level(logging.ERROR, logger="processor.outbox"):
        processor.deliver()
    refused, delivered = _pending(job)
    assert refused.given_up_at is not None
    assert refused.attempts == 1
    assert refused.delivered_at is None
    assert "HTTP 410" in (refused.last_error or "")
    assert delivered.delivered_at is not None
    assert any("refused" in r.message and refused.webhook_id in r.message for r in caplog.records)


def test_a_receiver_that_is_away_holds_up_its_own_job_only(processor: Processor) -> None:
    away = _job(f"http://localhost:{provision.free_port()}/notify", "away")
    here = _job(processor.notify_url, "here")
    _messages(away, 2)
    _messages(here, 2)
    sender = Sender()
    try:
        _wait(sender, lambda: all(m.delivered_at for m in _pending(here)))
    finally:
        sender.close()
    assert [m.attempts for m in _pending(away)][1] == 0
    assert len(processor.received) == 2


def test_backoff_doubles_to_its_cap_and_gives_up_after_the_retry_window(
    processor: Processor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = processor.app.config
    monkeypatch.setitem(config, "OUTBOX_FIRST_DELAY", 1.0)
    monkeypatch.setitem(config, "OUTBOX_MAX_DELAY", 4.0)
    job = _job(processor.notify_url)
    _messages(job, 1)
    [message] = _pending(job)
    failure = Outcome(delivered=False, retry=True, detail="HTTP 503")
    delays = []
    for _ in range(4):
        record(message, failure)
        delays.append(round(message.next_attempt_at - time.time()))
    assert delays == [1, 2, 4, 4]
    message.created_at -= config["OUTBOX_RETRY_SECONDS"] + 1
    with caplog.at_level(logging.ERROR, logger="processor.outbox"):
        record(message, failure)
    assert message.given_up_at is not None
    assert "given up after 5 attempts" in caplog.text


def test_by_default_notifications_are_retried_for_more_than_half_an_hour(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config["OUTBOX_RETRY_SECONDS"] >= 30 * 60
    assert config["OUTBOX_MAX_DELAY"] < config["OUTBOX_RETRY_SECONDS"]
