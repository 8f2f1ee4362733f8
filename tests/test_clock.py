"""The clock: lost jobs launched again from the database, silent treatments reaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.conftest import Mailbox, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.provision import free_port
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db, get_queue, redis_client
from webapp.lifecycle import Status, claim
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


def test_events_being_applied_are_left_to_their_job_until_its_heartbeat_stops(
    app: Flask, client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    from rq.job import JobStatus

    from webapp.treatments.apply import apply_events, forget_pending_job

    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "STARTED")
    db.session.execute(update(TreatmentEvent).values(received_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    get_queue().delete(delete_jobs=True)
    forget_pending_job(treatment.id)
    # A worker runs apply_events for it (a slow download), its heartbeat fresh.
    running = get_queue().enqueue(apply_events, treatment.id)
    running.set_status(JobStatus.STARTED)
    running.heartbeat(utcnow(), 60)
    redis_client().set(f"{app.config['REDIS_PREFIX']}:events-running:{treatment.id}", running.id)
    assert dispatch() == 0
    running.heartbeat(utcnow() - timedelta(minutes=5), 60)  # its worker died
    assert dispatch() == 1


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


def _running_without_news(client: FlaskClient, user: User, api: ProcessingAPI) -> Treatment:
    treatment = launch(client, make_set(user))
    notify(client, treatment, "STARTED")
    run_jobs()
    db.session.expire_all()
    assert treatment.state is Status.IN_PROGRESS
    return treatment


def _back_date_lost_since(treatment: Treatment, seconds: float) -> None:
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id)
        .values(lost_since=utcnow() - timedelta(seconds=seconds))
    )
    db.session.commit()


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"status": "PENDING"}),
        (200, {"tracking_id": "t", "log": {"status": "PENDING"}}),
        (503, {}),
    ],
    ids=["aikon-forgot-it", "pending-in-its-log", "no-answer"],
)
def test_a_started_run_the_api_has_no_news_of_ends_in_lost_contact(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
    answer: tuple[int, dict[str, object]],
) -> None:
    """AIKON says PENDING for a job it forgot: after several checks past the horizon, ERROR."""
    monkeypatch.setitem(app.config, "REAPER_SILENCE_SECONDS", -1)
    treatment = _running_without_news(client, logged_in, processing_api)
    processing_api.status_answer = answer
    for check in range(1, 4):
        reap()
        db.session.expire_all()
        assert (treatment.state, treatment.lost_checks) == (Status.IN_PROGRESS, check)
    _back_date_lost_since(treatment, app.config["RESULTS_HORIZON_SECONDS"] + 1)
    assert reap() == 1
    db.session.expire_all()
    assert treatment.state is Status.ERROR
    assert treatment.error.startswith("Lost contact with the processing API")
    assert "Results that arrived before are kept" in treatment.error


def test_news_of_the_run_resets_the_count(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REAPER_SILENCE_SECONDS", -1)
    treatment = _running_without_news(client, logged_in, processing_api)
    processing_api.status_answer = (200, {"status": "PENDING"})
    reap()
    reap()
    processing_api.status_answer = (200, {"tracking_id": "t", "log": {"status": "PROGRESS"}})
    reap()
    db.session.expire_all()
    assert (treatment.lost_checks, treatment.lost_since) == (0, None)


def test_a_launched_run_still_queued_at_the_api_is_waited_for(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REAPER_SILENCE_SECONDS", -1)
    treatment = launch(client, make_set(logged_in))
    processing_api.status_answer = (200, {"status": "PENDING"})
    for _ in range(5):
        reap()
    db.session.expire_all()
    assert (treatment.state, treatment.lost_checks) == (Status.STARTED, 0)


def test_a_run_past_the_maximum_run_time_ends_after_a_last_check(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REAPER_SILENCE_SECONDS", -1)
    treatment = _running_without_news(client, logged_in, processing_api)
    processing_api.status_answer = (200, {"tracking_id": "t", "log": {"status": "PROGRESS"}})
    assert reap() == 0
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id)
        .values(started_at=utcnow() - timedelta(hours=app.config["MAX_RUN_HOURS"], seconds=1))
    )
    db.session.commit()
    assert reap() == 1
    db.session.expire_all()
    assert treatment.state is Status.ERROR
    assert "maximum run time (48 h)" in treatment.error
    assert "last word was PROGRESS" in treatment.error


def test_a_launch_whose_worker_died_is_launched_again_once_its_lease_ends(
    app: Flask, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = service.create_treatment(
        logged_in, make_set(logged_in), task_module("regions"), {}, notify_email=False
    )
    lease = app.config["LAUNCH_LEASE_SECONDS"]
    # A worker took it, then died before any outcome.
    assert claim(Treatment, treatment.id, [Status.PENDING], lease)
    assert not claim(Treatment, treatment.id, [Status.PENDING], lease)  # not twice
    get_queue().delete(delete_jobs=True)
    assert dispatch() == 0  # its lease still runs
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id)
        .values(claimed_at=utcnow() - timedelta(seconds=app.config["LAUNCH_LEASE_SECONDS"] + 1))
    )
    db.session.commit()
    assert dispatch() == 1
    run_jobs()
    db.session.expire_all()
    assert (treatment.state, treatment.tracking_id) == (Status.STARTED, "trk-1")
    assert len(processing_api.starts) == 1


def test_a_retry_is_scheduled_not_slept(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "LAUNCH_RETRY_DELAYS", [600.0])
    monkeypatch.setitem(app.config, "API_URL", f"http://127.0.0.1:{free_port()}")
    treatment = launch(client, make_set(logged_in))
    assert treatment.state is Status.RETRYING
    assert "Trying again in 600 s" in treatment.message
    assert treatment.claimed_at is None
    scheduled = get_queue().scheduled_job_registry.get_job_ids()
    assert len([job for job in scheduled if treatment.id in job]) == 1
