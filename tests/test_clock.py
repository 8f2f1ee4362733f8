"""The clock: lost jobs launched again from the database, silent treatments reaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.conftest import Mailbox, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db, get_queue
from webapp.lifecycle import Status
from webapp.task_modules.registry import task_module
from webapp.treatments import service
from webapp.treatments.clock import dispatch, reap, run_once
from webapp.treatments.models import Treatment, TreatmentEvent


def _age(treatment: Treatment, seconds: float) -> None:
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id)
        .values(updated_at=utcnow() - timedelta(seconds=seconds))
    )
    db.session.commit()


def test_a_pending_treatment_whose_job_was_lost_is_launched(
    logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in)
    treatment = service.create_treatment(
        logged_in, document_set, task_module("regions"), {}, notify_email=False
    )
    get_queue().delete(delete_jobs=True)  # Redis lost the job
    assert dispatch() == 0  # too recent: its job may still be on its way
    _age(treatment, 120)
    assert dispatch() == 1
    assert dispatch() == 0  # queued now: not twice
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "STARTED"
    assert len(processing_api.starts) == 1


def test_a_launch_while_redis_is_down_is_kept_and_dispatched_later(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    def redis_down(*args: object, **kwargs: object) -> None:
        raise RedisConnectionError("down")

    monkeypatch.setattr("rq.queue.Queue.enqueue", redis_down)
    response = client.post(
        "/treatments/new",
        data={"document_set": str(make_set(logged_in).id), "task_type": "regions"},
    )
    assert response.status_code == 302
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "API_URL", processing_api.url)
    monkeypatch.setitem(app.config, "RESULT_HOSTS", ["localhost"])
    treatment = db.session.scalars(db.select(Treatment)).one()
    assert treatment.status == "PENDING"
    _age(treatment, 120)
    run_once()
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "STARTED"


def test_an_event_whose_job_was_lost_is_applied(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error="boom")
    get_queue().delete(delete_jobs=True)
    db.session.execute(update(TreatmentEvent).values(received_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert dispatch() == 1
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "ERROR"
    assert dispatch() == 0


@pytest.mark.parametrize(
    ("answer", "ends", "error"),
    [
        ((200, {"status": "PENDING"}), False, ""),
        ((200, {"tracking_id": "t", "log": {"status": "PROGRESS", "progress": []}}), False, ""),
        ((404, {"error": "Unknown task"}), True, "Lost contact with the processing API"),
        ((200, {"tracking_id": "t", "log": None}), True, "Lost contact"),  # AIKON after ERROR
        ((200, {"tracking_id": "t", "log": {"status": "FAILURE"}}), True, "Lost contact"),
        ((503, {}), False, ""),
    ],  # the API is down: ask again later
)
def test_the_reaper_asks_the_api_about_silent_treatments(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    mailbox: Mailbox,
    answer: tuple[int, dict[str, object]],
    ends: bool,
    error: str,
) -> None:
    treatment = launch(client, make_set(logged_in))
    processing_api.status_answer = answer
    assert reap() == 0  # not silent yet
    _age(treatment, 3600)
    assert reap() == (1 if ends else 0)
    db.session.expire_all()
    assert treatment.state.is_terminal is ends
    assert error in treatment.error
    if ends:
        run_jobs()
        assert "Lost contact" in mailbox.body()


def test_a_success_whose_results_never_came_ends_after_the_horizon(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    # AIKON's status after SUCCESS has a log without a status key.
    processing_api.status_answer = (200, {"tracking_id": "t", "log": {"infos": []}})
    _age(treatment, 3600)
    assert reap() == 0  # the senders may still be retrying
    _age(treatment, 3 * 3600)
    assert reap() == 1
    db.session.expire_all()
    assert treatment.status == Status.ERROR
    assert "results never arrived" in treatment.error
