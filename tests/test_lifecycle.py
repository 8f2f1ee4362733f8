"""The one state machine of all work (DESIGN 3): one conditional UPDATE decides every move."""

from __future__ import annotations

from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.concurrency import race
from tests.conftest import run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import UNKNOWN_FAILURE, Status, sources, transition
from webapp.treatments import service
from webapp.treatments.apply import apply_events
from webapp.treatments.clock import reap
from webapp.treatments.completion import CompletionEmail
from webapp.treatments.models import Treatment, TreatmentEvent

TERMINAL = [Status.SUCCESS, Status.ERROR, Status.CANCELLED]


def test_no_move_leaves_a_terminal_state_or_goes_backwards() -> None:
    for target in Status:
        assert not any(s.is_terminal for s in sources(target))
    assert Status.IN_PROGRESS not in sources(Status.STARTED)
    assert Status.STARTED in sources(Status.IN_PROGRESS)
    assert sources(Status.RETRYING) == {Status.PENDING, Status.RETRYING}


def test_labels_are_for_people() -> None:
    assert Status.IN_PROGRESS.label == "In progress"
    assert Status.CANCELLED.is_terminal
    assert not Status.WAITING.is_terminal


def _fresh(treatment: Treatment) -> Treatment:
    db.session.expire_all()
    row = db.session.get(Treatment, treatment.id)
    assert row is not None
    return row


def test_work_moves_forwards_to_an_end_and_keeps_each_move(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in), notify_email=True)
    assert treatment.state is Status.STARTED
    assert treatment.started_at is not None
    assert transition(treatment, Status.IN_PROGRESS, "working")
    assert not transition(treatment, Status.STARTED)  # never backwards
    assert transition(treatment, Status.SUCCESS, "done")
    row = _fresh(treatment)
    assert (row.state, row.message) == (Status.SUCCESS, "done")
    assert row.finished_at is not None
    for target in Status:
        assert not transition(row, target)
    assert _fresh(row).state is Status.SUCCESS
    moves = [e.event for e in row.events if e.kind == "move"]
    assert moves == ["STARTED", "IN_PROGRESS", "SUCCESS"]
    assert db.session.scalar(select(func.count(CompletionEmail.id))) == 1


def test_an_error_always_has_a_readable_message(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    assert transition(treatment, Status.ERROR, error="  ")
    assert _fresh(treatment).error == UNKNOWN_FAILURE


def test_retrying_counts_attempts(logged_in: User, processing_api: ProcessingAPI) -> None:
    from webapp.task_modules.registry import task_module

    treatment = service.create_treatment(
        logged_in, make_set(logged_in), task_module("regions"), {}, notify_email=False
    )
    assert transition(treatment, Status.RETRYING)
    assert transition(treatment, Status.RETRYING)
    assert _fresh(treatment).attempts == 2
    assert transition(treatment, Status.STARTED)
    assert not transition(treatment, Status.RETRYING)


def _terminal_moves(treatment: Treatment) -> list[str]:
    """The endings the history shows: a move of its own, or one a notification caused."""
    events = db.session.scalars(
        select(TreatmentEvent).where(TreatmentEvent.treatment_id == treatment.id)
    )
    return [
        label
        for e in events
        for label in ("Succeeded", "Failed", "Cancelled")
        if f"→ {label}" in e.outcome
    ]


def _cancel_quietly(treatment_id: str) -> None:
    treatment = db.session.get(Treatment, treatment_id)
    assert treatment is not None
    refused = ""
    try:
        service.cancel(treatment, treatment.owner)
    except UserError as exc:  # the loser is told it ended first
        refused = str(exc)
    assert not refused or "ended" in refused


@pytest.mark.parametrize("ending", ["SUCCESS", "ERROR"])
def test_a_cancel_racing_an_ending_is_decided_once(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    ending: str,
) -> None:
    """Whichever commits first wins; the other changes nothing, whatever the order."""
    for _ in range(8):
        treatment = launch(client, make_set(logged_in, digitizations=1), notify_email=True)
        fields = {"success": True} if ending == "SUCCESS" else {"error": "boom", "completed": True}
        assert notify(client, treatment, ending, **fields).status_code == 200
        race(app, partial(apply_events, treatment.id), partial(_cancel_quietly, treatment.id))
        run_jobs()
        row = _fresh(treatment)
        assert row.state in {Status(ending), Status.CANCELLED}
        assert _terminal_moves(row) == [row.state.label], _terminal_moves(row)
        emails = db.session.scalars(
            select(CompletionEmail).where(CompletionEmail.treatment_id == row.id)
        ).all()
        assert len(emails) == 1


def test_the_reaper_racing_a_success_is_decided_once(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "REAPER_SILENCE_SECONDS", -1)
    processing_api.status_answer = (200, {"tracking_id": "x", "log": None})  # "it failed"
    for _ in range(8):
        treatment = launch(client, make_set(logged_in, digitizations=1), notify_email=True)
        assert notify(client, treatment, "SUCCESS", success=True).status_code == 200
        race(app, partial(apply_events, treatment.id), reap)
        row = _fresh(treatment)
        assert row.state in {Status.SUCCESS, Status.ERROR}
        assert _terminal_moves(row) == [row.state.label]
        assert not transition(row, Status.CANCELLED)
        assert _fresh(row).state in {Status.SUCCESS, Status.ERROR}


def test_the_page_offers_cancel_while_it_runs_and_relaunch_once_it_ended(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f"/treatments/{treatment.id}/cancel" in page
    assert f"/treatments/{treatment.id}/relaunch" not in page
    refused = client.post(f"/treatments/{treatment.id}/relaunch", follow_redirects=True)
    assert "still running" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Treatment.id))) == 1
    client.post(f"/treatments/{treatment.id}/cancel")
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f"/treatments/{treatment.id}/cancel" not in page
    assert f"/treatments/{treatment.id}/relaunch" in page
