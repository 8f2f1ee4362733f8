"""The administrators' area, the operators' commands, purge and the health check."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pytest_httpserver import HTTPServer
from rq.registry import FailedJobRegistry
from rq.worker import Worker
from sqlalchemy import func, select

from tests.conftest import AuthActions, json_body, run_jobs
from tests.processing_api import ProcessingAPI
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db, get_queue, redis_client
from webapp.lifecycle import Status
from webapp.task_modules.vectorization.models import Vectorization
from webapp.treatments.clock import run_once
from webapp.treatments.models import Treatment, TreatmentEvent
from webapp.treatments.purge import parse_age


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def admin_client(client: FlaskClient, auth: AuthActions, admin: User) -> FlaskClient:
    auth.login(admin)
    return client


def _treatment(owner: User, status: Status, title: str = "Set", **fields: object) -> Treatment:
    treatment = Treatment(
        task_type="regions",
        owner_id=owner.id,
        document_set_title=title,
        documents=[{"uid": "a"}],
        parameters={"model": "x"},
        status=status,
        **fields,
    )
    db.session.add(treatment)
    db.session.commit()
    return treatment


def test_admins_filter_search_and_sort_every_treatment(
    admin_client: FlaskClient, user: User, other_user: User
) -> None:
    ada = _treatment(user, Status.SUCCESS, "Astronomy")
    bob = _treatment(other_user, Status.ERROR, "Botany", error="Page 3 unreadable")
    old = _treatment(user, Status.CANCELLED, "Old", requested_at=utcnow() - timedelta(days=40))

    def shown(query: str) -> set[str]:
        page = admin_client.get(f"/admin/treatments?{query}").get_data(as_text=True)
        return {t.id for t in (ada, bob, old) if t.id in page}

    assert shown("") == {ada.id, bob.id, old.id}
    assert shown("status=ERROR") == {bob.id}
    assert shown("status=ERROR&status=CANCELLED") == {bob.id, old.id}
    assert shown("user=bob%40") == {bob.id}
    assert shown("document_set=astro") == {ada.id}
    assert shown("q=unreadable") == {bob.id}
    assert shown(f"q={ada.id[:8]}") == {ada.id}
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert shown(f"since={since}") == {ada.id, bob.id}
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    assert shown(f"until={until}") == {old.id}
    assert shown("since=yesterday&status=NOPE&sort=evil") == {ada.id, bob.id, old.id}
    page = admin_client.get("/admin/treatments?sort=oldest").get_data(as_text=True)
    assert page.index(old.id) < page.index(bob.id)


def test_bulk_relaunch_cancel_and_delete(
    admin_client: FlaskClient, user: User, processing_api: ProcessingAPI
) -> None:
    done = _treatment(user, Status.SUCCESS)
    failed = _treatment(user, Status.ERROR)
    running = _treatment(user, Status.IN_PROGRESS, tracking_id="trk-9")
    db.session.add(Vectorization(treatment_id=done.id, crop_id="c", svg="<svg/>"))
    db.session.commit()

    response = admin_client.post(
        "/admin/treatments/bulk?status=ERROR",
        data={"action": "relaunch", "ids": [failed.id, done.id]},
    )
    assert response.headers["Location"] == "/admin/treatments?status=ERROR&sort=newest"
    relaunched = db.session.scalars(
        select(Treatment).where(Treatment.relaunch_of_id.is_not(None))
    ).all()
    assert {t.relaunch_of_id for t in relaunched} == {failed.id, done.id}

    admin_client.post(
        "/admin/treatments/bulk", data={"action": "cancel", "ids": [running.id, done.id]}
    )
    db.session.expire_all()
    assert running.status == Status.CANCELLED
    assert processing_api.cancels == ["/regions/trk-9/cancel"]
    flashed = admin_client.get("/admin/treatments").get_data(as_text=True)
    assert "has already ended" in flashed  # the finished one is refused, and said so

    still = _treatment(user, Status.STARTED)
    admin_client.post("/admin/treatments/bulk", data={"action": "relaunch", "ids": [still.id]})
    assert "still running" in admin_client.get("/admin/treatments").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Treatment.relaunch_of_id == still.id)) == 0

    new_running = relaunched[0]
    admin_client.post(
        "/admin/treatments/bulk", data={"action": "delete", "ids": [done.id, new_running.id]}
    )
    db.session.expire_all()
    assert db.session.get(Treatment, done.id) is None
    assert db.session.scalar(select(func.count()).select_from(Vectorization)) == 0
    assert db.session.get(Treatment, new_running.id) is not None  # still running: refused
    bad = admin_client.post(
        "/admin/treatments/bulk", data={"action": "explode", "ids": [failed.id]}
    )
    assert bad.status_code == 302
    assert db.session.get(Treatment, failed.id) is not None


def test_admins_manage_accounts(admin_client: FlaskClient, admin: User, user: User) -> None:
    response = admin_client.post(
        "/admin/users",
        data={"email": "new@example.org", "name": "New", "password": "a long password"},
    )
    assert response.status_code == 302
    bad = admin_client.post("/admin/users", data={"email": "nope", "password": "x"})
    assert bad.status_code == 400
    duplicate = admin_client.post(
        "/admin/users", data={"email": "new@example.org", "password": "another password"}
    )
    assert duplicate.status_code == 400

    admin_client.post(f"/admin/users/{user.id}/deactivate")
    admin_client.post(f"/admin/users/{user.id}/grant-admin")
    db.session.expire_all()
    assert not user.active
    assert user.is_admin
    admin_client.post(f"/admin/users/{user.id}/reset-password")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "(shown once)" in page
    # An administrator cannot lock themselves out.
    admin_client.post(f"/admin/users/{admin.id}/deactivate")
    admin_client.post(f"/admin/users/{admin.id}/revoke-admin")
    db.session.expire_all()
    assert admin.active
    assert admin.is_admin


def test_admins_see_every_document_set(admin_client: FlaskClient, user: User) -> None:
    make_set(user)
    page = admin_client.get("/admin/sets").get_data(as_text=True)
    assert "Diagrams" in page
    assert user.email in page


def test_queues_workers_failed_jobs_clock_and_api(
    app: Flask, admin_client: FlaskClient, processing_api: ProcessingAPI, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/regions/monitor").respond_with_json({"queue": {"queued": 4}})
    job = get_queue().enqueue("builtins.int", "not a number")
    run_jobs()
    worker: Any = Worker([get_queue()], connection=redis_client(), name=f"w-{time.monotonic_ns()}")
    worker.register_birth()
    run_once()
    try:
        page = admin_client.get("/admin/queues").get_data(as_text=True)
    finally:
        worker.register_death()
    assert 'data-registry="failed">1<' in page
    assert job.id in page
    assert "ValueError" in page
    assert worker.name in page
    assert "Last run" in page
    assert '"queued": 4' in page
    admin_client.post(f"/admin/queues/default/failed/{job.id}/requeue")
    assert get_queue().count == 1
    run_jobs()
    admin_client.post(f"/admin/queues/default/failed/{job.id}/delete")
    after = admin_client.get("/admin/queues").get_data(as_text=True)
    assert 'data-registry="failed">0<' in after
    assert admin_client.post(f"/admin/queues/nope/failed/{job.id}/delete").status_code == 302


def test_queues_page_says_when_the_api_does_not_answer(
    app: Flask, admin_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.provision import free_port

    monkeypatch.setitem(app.config, "API_URL", f"http://127.0.0.1:{free_port()}")
    page = admin_client.get("/admin/queues").get_data(as_text=True)
    assert "does not answer" in page


def test_healthz_reports_workers_clock_and_api(
    app: Flask, client: FlaskClient, processing_api: ProcessingAPI, httpserver: HTTPServer
) -> None:
    redis_client().delete(f"{app.config['REDIS_PREFIX']}:clock:last_run")
    body = json_body(client.get("/healthz"))
    assert body["status"] == "degraded"  # still serving: no reason to leave the pool
    assert body["checks"]["workers"] == "none seen recently"
    assert body["checks"]["clock"] == "not seen recently"
    httpserver.expect_request("/regions/monitor").respond_with_json({})
    worker: Any = Worker([get_queue()], connection=redis_client(), name=f"w-{time.monotonic_ns()}")
    worker.register_birth()
    worker.heartbeat()
    run_once()
    try:
        response = client.get("/healthz")
    finally:
        worker.register_death()
    assert response.status_code == 200
    assert json_body(response) == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "workers": "ok",
            "clock": "ok",
            "processing_api": "ok",
        },
    }


def _aged(treatment: Treatment, days: int) -> None:
    then = utcnow() - timedelta(days=days)
    treatment.finished_at = treatment.updated_at = then
    for event in treatment.events:
        event.received_at = then
    db.session.commit()


def test_purge_forgets_what_is_old_and_keeps_research_data(
    app: Flask, user: User, runner: FlaskCliRunner
) -> None:
    kept = _treatment(user, Status.SUCCESS)
    failed = _treatment(user, Status.ERROR)
    cancelled = _treatment(user, Status.CANCELLED)
    recent = _treatment(user, Status.ERROR)
    for treatment in (kept, failed, cancelled, recent):
        db.session.add(
            TreatmentEvent(
                treatment_id=treatment.id,
                event="PROGRESS",
                dedupe_key=treatment.id,
                payload={},
                processed_at=utcnow(),
            )
        )
    db.session.add(
        TreatmentEvent(treatment_id=kept.id, event="SUCCESS", dedupe_key="waiting", payload={})
    )
    db.session.add(Vectorization(treatment_id=kept.id, crop_id="c", svg="<svg/>"))
    db.session.commit()
    for treatment in (kept, failed, cancelled):
        _aged(treatment, 40)
    derived = Path(app.config["STORAGE_DIR"]) / "cache" / "iiif" / "1" / "old.jpg"
    derived.parent.mkdir(parents=True, exist_ok=True)
    derived.write_bytes(b"x")
    old = time.time() - 40 * 86400
    os.utime(derived, (old, old))
    fresh = derived.with_name("fresh.jpg")
    fresh.write_bytes(b"x")

    dry = runner.invoke(args=["treatments", "purge", "--older-than", "30d", "--dry-run"])
    assert (
        "Would delete 3 event(s), 2 failed or cancelled treatment(s), 0 ended task(s), "
        "1 derived file(s)" in dry.output
    )
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 4

    result = runner.invoke(args=["treatments", "purge", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert {t.id for t in db.session.scalars(select(Treatment))} == {kept.id, recent.id}
    events = db.session.scalars(select(TreatmentEvent)).all()
    # The old applied event went; the recent one and the one still to apply stay.
    assert {(e.treatment_id, e.dedupe_key) for e in events} == {
        (recent.id, recent.id),
        (kept.id, "waiting"),
    }
    assert db.session.scalar(select(func.count()).select_from(Vectorization)) == 1
    assert not derived.exists()
    assert fresh.exists()
    bad = runner.invoke(args=["treatments", "purge", "--older-than", "soon"])
    assert bad.exit_code != 0
    assert "30d" in bad.output


def test_the_clock_purges_once_a_day(
    app: Flask, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[timedelta] = []
    monkeypatch.setattr("webapp.treatments.clock.purge", calls.append)
    redis_client().delete(f"{app.config['REDIS_PREFIX']}:clock:purge")
    run_once()
    run_once()
    assert calls == [timedelta(days=30)]


def test_ages_read_as_operators_write_them() -> None:
    assert parse_age("30d") == timedelta(days=30)
    assert parse_age(" 12h") == timedelta(hours=12)
    assert parse_age("90m") == timedelta(minutes=90)
    with pytest.raises(ValueError, match="30d"):
        parse_age("1 week")


def test_operators_list_relaunch_and_cancel_from_the_command_line(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    runner: FlaskCliRunner,
) -> None:
    treatment = launch(client, make_set(logged_in), "regions", notify_email=False)
    listed = runner.invoke(args=["treatments", "list", "--status", "STARTED"])
    assert treatment.id in listed.output
    assert logged_in.email in listed.output
    running = runner.invoke(args=["treatments", "relaunch", treatment.id])
    assert running.exit_code != 0
    assert "still running" in running.output
    cancelled = runner.invoke(args=["treatments", "cancel", treatment.id])
    assert cancelled.exit_code == 0, cancelled.output
    db.session.expire_all()
    assert treatment.status == Status.CANCELLED
    again = runner.invoke(args=["treatments", "cancel", treatment.id])
    assert again.exit_code != 0
    assert "already ended" in again.output
    relaunched = runner.invoke(args=["treatments", "relaunch", treatment.id])
    assert "Relaunched as" in relaunched.output
    assert runner.invoke(args=["treatments", "cancel", "nope"]).exit_code != 0


def test_log_lines_of_a_treatment_carry_its_id(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    from webapp.logs import FORMAT, TreatmentFilter

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(TreatmentFilter())
    logging.getLogger().addHandler(handler)
    try:
        treatment = launch(client, make_set(logged_in), "regions", notify_email=False)
        logging.getLogger("outside").warning("not about a treatment")
    finally:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert f"[treatment {treatment.id}]" in err
    assert "[treatment -]: not about a treatment" in err


def test_every_failed_job_is_requeued_or_deleted_at_once(
    app: Flask, admin_client: FlaskClient
) -> None:
    for _ in range(3):
        get_queue().enqueue("builtins.int", "not a number")
    run_jobs()
    registry = FailedJobRegistry(queue=get_queue())
    assert registry.count == 3
    page = admin_client.get("/admin/queues").get_data(as_text=True)
    assert "Requeue them all" in page
    response = admin_client.post("/admin/queues/default/failed-jobs/requeue", follow_redirects=True)
    assert "3 failed jobs requeued." in response.get_data(as_text=True)
    assert get_queue().count == 3
    assert registry.count == 0
    run_jobs()
    response = admin_client.post("/admin/queues/default/failed-jobs/delete", follow_redirects=True)
    assert "3 failed jobs deleted." in response.get_data(as_text=True)
    assert registry.count == 0
    assert admin_client.post("/admin/queues/default/failed-jobs/burn").status_code == 302


def test_metrics_are_prometheus_text_for_the_token_only(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/metrics").status_code == 404  # no token set: no metrics
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-me")
    _treatment(user, Status.ERROR)
    _treatment(user, Status.SUCCESS)
    done = _treatment(user, Status.SUCCESS, started_at=utcnow())
    done.requested_at = utcnow() - timedelta(seconds=3)
    db.session.commit()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'scriptorium_treatments{state="SUCCESS",task="regions"} 2.0' in text
    assert 'scriptorium_treatments{state="ERROR",task="regions"} 1.0' in text
    assert 'scriptorium_queue_jobs{queue="default"}' in text
    assert "scriptorium_workers " in text
    assert 'scriptorium_launch_latency_seconds_bucket{le="5.0"} 1.0' in text
    assert 'scriptorium_launch_latency_seconds_bucket{le="2.5"} 0.0' in text
    assert "scriptorium_notify_latency_seconds_count 0.0" in text


def test_a_bulk_action_on_everything_matching_the_filters(
    admin_client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = [_treatment(user, Status.ERROR) for _ in range(3)]
    kept = _treatment(user, Status.SUCCESS)
    monkeypatch.setattr("webapp.admin.routes.BULK_LIMIT", 2)
    page = admin_client.get("/admin/treatments?status=ERROR").get_data(as_text=True)
    assert 'data-select-all="ids"' in page
    response = admin_client.post(
        "/admin/treatments/bulk?status=ERROR",
        data={"action": "delete", "scope": "matching"},
        follow_redirects=True,
    )
    said = response.get_data(as_text=True)
    assert "Delete: 2 done." in said
    assert "Only the first 2 were acted on: apply it again for the others." in said
    admin_client.post(
        "/admin/treatments/bulk?status=ERROR", data={"action": "delete", "scope": "matching"}
    )
    db.session.expire_all()
    assert all(db.session.get(Treatment, t.id) is None for t in failed)
    assert db.session.get(Treatment, kept.id) is not None
