"""Fair share: a limit of running treatments per user and in all, launches in turn between
users, and what a waiting treatment says (on its page, after a reload too)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.concurrency import race
from tests.conftest import AuthActions, make_user, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.extensions import db
from webapp.treatments.clock import dispatch
from webapp.treatments.fair_share import admit
from webapp.treatments.models import Treatment


def _launched(processing_api: ProcessingAPI) -> list[str]:
    return [start["experiment_id"] for start in processing_api.starts]


def _fresh(treatment: Treatment) -> Treatment:
    db.session.expire_all()
    found = db.session.get(Treatment, treatment.id)
    assert found is not None
    return found


def _end(client: FlaskClient, treatment: Treatment) -> None:
    response = notify(client, treatment, "SUCCESS", tracking_id=treatment.tracking_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    run_jobs()


def test_a_user_over_the_limit_waits_for_their_earlier_treatments(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 2)
    document_set = make_set(logged_in)
    first, second, third = (launch(client, document_set) for _ in range(3))
    assert _launched(processing_api) == [first.id, second.id]
    third = _fresh(third)
    assert third.status == "PENDING"
    assert third.message.startswith("Waiting for your earlier treatments")
    # What a reload shows, on the treatment's page and in the list.
    assert "Waiting for your earlier treatments" in client.get(f"/treatments/{third.id}").get_data(
        as_text=True
    )
    assert "Waiting for your earlier treatments" in client.get("/treatments/").get_data(
        as_text=True
    )
    _end(client, _fresh(first))
    assert _launched(processing_api) == [first.id, second.id, third.id]
    third = _fresh(third)
    assert third.status == "STARTED"
    assert not third.message.startswith("Waiting")


def test_another_users_treatment_does_not_wait_for_the_first_users(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    other_user: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 1)
    mine = make_set(logged_in)
    launch(client, mine)
    waiting = launch(client, mine)
    client.post("/logout")
    auth.login(other_user.email)
    theirs = launch(client, make_set(other_user))
    assert theirs.status == "STARTED"
    assert _fresh(waiting).status == "PENDING"


def test_a_waiting_treatment_can_be_cancelled_and_is_never_launched(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 1)
    document_set = make_set(logged_in)
    first = launch(client, document_set)
    waiting = launch(client, document_set)
    assert client.post(f"/treatments/{waiting.id}/cancel").status_code == 302
    _end(client, _fresh(first))
    assert _fresh(waiting).status == "CANCELLED"
    assert _launched(processing_api) == [first.id]


def test_places_free_in_turn_between_users(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One place in all: however many one user queued first, the others' go in turn."""
    monkeypatch.setitem(app.config, "MAX_RUNNING", 1)
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 0)
    users = [logged_in, make_user("bea@example.org"), make_user("cy@example.org")]
    owner_of: dict[str, str] = {}
    for user, count in zip(users, [3, 2, 1], strict=True):
        client.post("/logout")
        auth.login(user.email)
        document_set = make_set(user)
        for _ in range(count):
            owner_of[launch(client, document_set).id] = user.email
    waiting = db.session.scalars(
        select(Treatment).where(Treatment.status == "PENDING", Treatment.admitted_at.is_(None))
    ).all()
    assert len(waiting) == 5
    assert all(t.message.startswith("Waiting for a free place") for t in waiting)
    for _ in range(5):
        running = _fresh(
            db.session.scalars(select(Treatment).where(Treatment.status == "STARTED")).one()
        )
        _end(client, running)
    order = [owner_of[ident] for ident in _launched(processing_api)]
    ada, bea, cy = (user.email for user in users)
    assert order == [ada, bea, cy, ada, bea, ada]


def test_a_workflow_step_run_as_parts_holds_one_place(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 2)
    regions = launch(client, make_set(logged_in, digitizations=3))
    step = Treatment(
        task_type="vectorization",
        owner_id=logged_in.id,
        documents=[],
        container=True,
        status="IN_PROGRESS",
    )
    db.session.add(step)
    db.session.commit()
    parts = [step.another_run(regions.documents[i : i + 1], part_of_id=step.id) for i in range(3)]
    db.session.add_all(parts)
    db.session.commit()
    admit()
    run_jobs()
    assert set(_launched(processing_api)) == {regions.id, *(part.id for part in parts)}


def test_admissions_racing_never_pass_the_limit(
    app: Flask, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 3)
    treatments = [
        Treatment(task_type="regions", owner_id=logged_in.id, documents=[]) for _ in range(12)
    ]
    db.session.add_all(treatments)
    db.session.commit()
    race(app, *([admit] * 6))
    admitted = db.session.scalars(
        select(Treatment.id).where(Treatment.admitted_at.is_not(None))
    ).all()
    assert len(admitted) == 3


def test_the_clock_admits_what_an_ending_missed(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_RUNNING_PER_USER", 1)
    document_set = make_set(logged_in)
    first = launch(client, document_set)
    waiting = launch(client, document_set)
    # The ending is written, but whatever followed it was lost (a worker killed there).
    db.session.execute(update(Treatment).where(Treatment.id == first.id).values(status="SUCCESS"))
    db.session.commit()
    dispatch()
    run_jobs()
    assert _fresh(waiting).status == "STARTED"
