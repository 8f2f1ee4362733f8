"""Events belong to their run, and no notification can block a treatment (DESIGN 3 and 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.conftest import json_body, run_jobs
from tests.processing_api import ProcessingAPI, notify, signed_headers
from tests.treatment_helpers import launch, make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.task_modules.regions.models import Region
from webapp.treatments.models import Treatment, TreatmentEvent


@pytest.fixture
def treatment(client: FlaskClient, logged_in: User, processing_api: ProcessingAPI) -> Treatment:
    return launch(client, make_set(logged_in))


def _fresh(treatment: Treatment) -> Treatment:
    db.session.expire_all()
    row = db.session.get(Treatment, treatment.id)
    assert row is not None
    return row


def _regions() -> int:
    return db.session.scalar(select(func.count(Region.id))) or 0


def _results(processing_api: ProcessingAPI, treatment: Treatment, boxes: int = 2) -> list[object]:
    uid = treatment.documents[0]["uid"]
    url = processing_api.serve(f"/results/{uid}-{boxes}.json", regions_file(uid, boxes=boxes))
    return [{"doc_id": uid, "result_url": url}]


def test_an_event_of_another_run_is_refused_kept_and_has_no_effect(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    notify(
        client, treatment, "SUCCESS", output={"results_url": _results(processing_api, treatment)}
    )
    run_jobs()
    assert (_fresh(treatment).state, _regions()) == (Status.SUCCESS, 2)
    other = json.dumps(
        {
            "event": "PROGRESS",
            "tracking_id": "another-run",
            "experiment_id": treatment.id,
            "output": {"results_url": _results(processing_api, treatment, boxes=5)},
            "progress": {"current": 9, "total": 9},
        }
    )
    response = client.post(
        "/regions/notify",
        data=other,
        headers=signed_headers(other),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "another run" in json_body(response)["message"]
    run_jobs()
    row = _fresh(treatment)
    assert (_regions(), row.api_current, row.document_errors) == (2, None, [])
    refused = db.session.scalars(
        select(TreatmentEvent).where(TreatmentEvent.outcome.startswith("Refused"))
    ).all()
    assert len(refused) == 1
    assert refused[0].processed_at is not None
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "it comes from another run" in page  # kept in the history, after a reload


def test_an_event_of_another_run_sent_again_is_refused_again_and_kept_once(
    client: FlaskClient, treatment: Treatment
) -> None:
    body = json.dumps({"event": "PROGRESS", "tracking_id": "other", "experiment_id": treatment.id})
    headers = signed_headers(body, "msg_again")
    answers = [
        client.post("/regions/notify", data=body, headers=headers, content_type="application/json")
        for _ in range(2)
    ]
    assert [answer.status_code for answer in answers] == [409, 409]
    kept = db.session.scalars(select(TreatmentEvent).where(TreatmentEvent.event == "PROGRESS"))
    assert [(event.outcome[:8], event.processed_at is not None) for event in kept] == [
        ("Refused:", True)
    ]


@pytest.mark.parametrize(("task", "known"), [("similarity", True), ("regions", False)])
def test_a_notification_for_no_such_treatment_of_that_task_is_a_404_and_keeps_nothing(
    client: FlaskClient, treatment: Treatment, task: str, known: bool
) -> None:
    """Its own treatment at another task's address, or a treatment that does not exist."""
    experiment_id = treatment.id if known else "f" * 36
    events = db.session.scalar(select(func.count(TreatmentEvent.id)))
    body = json.dumps({"event": "STARTED", "experiment_id": experiment_id})
    response = client.post(
        f"/{task}/notify", data=body, headers=signed_headers(body), content_type="application/json"
    )
    assert (response.status_code, json_body(response)["message"]) == (404, "No such treatment.")
    assert db.session.scalar(select(func.count(TreatmentEvent.id))) == events


def test_results_for_documents_not_in_the_treatment_are_refused_and_listed(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    foreign = "wit999_man999"
    url = processing_api.serve("/results/foreign.json", regions_file(foreign, boxes=4))
    items = [*_results(processing_api, treatment), {"doc_id": foreign, "result_url": url}]
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    row = _fresh(treatment)
    assert row.state is Status.SUCCESS
    assert _regions() == 2
    assert row.document_errors == [f"{foreign}: not a document of this treatment; results refused."]


def test_a_launch_cut_short_takes_its_tracking_id_from_the_first_notification(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    db.session.execute(
        update(Treatment).where(Treatment.id == treatment.id).values(tracking_id=None)
    )
    db.session.commit()
    body = json.dumps({"event": "STARTED", "tracking_id": "run-7", "experiment_id": treatment.id})
    client.post(
        "/regions/notify", data=body, headers=signed_headers(body), content_type="application/json"
    )
    run_jobs()
    row = _fresh(treatment)
    assert (row.tracking_id, row.state) == ("run-7", Status.IN_PROGRESS)
    client.post(f"/treatments/{row.id}/cancel")
    assert processing_api.cancels == ["/regions/run-7/cancel"]


@pytest.mark.parametrize(
    "fields",
    [
        {"error": 42, "completed": False},
        {"error": ["a", {"b": 1}], "completed": False},
        {"error": {"nested": [1, 2]}, "completed": False},
        {"progress": "half"},
        {"progress": {"current": "x", "total": [1]}},
        {"output": "nothing"},
        {"output": {"results_url": "x", "error": 7}},
        {"message": {"a": None}},
    ],
)
def test_any_value_a_notification_carries_renders_and_the_next_event_applies(
    client: FlaskClient,
    treatment: Treatment,
    processing_api: ProcessingAPI,
    fields: dict[str, Any],
) -> None:
    event = "ERROR" if "error" in fields else "PROGRESS"
    assert notify(client, treatment, event, **fields).status_code == 200
    run_jobs()
    for path in ("", "/live", "/stream"):
        assert client.get(f"/treatments/{treatment.id}{path}").status_code == 200
    results = {"results_url": _results(processing_api, treatment)}
    assert notify(client, treatment, "SUCCESS", output=results).status_code == 200
    run_jobs()
    assert _fresh(treatment).state is Status.SUCCESS


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('"progress": {"current": NaN, "total": 3}', "not a number JSON allows"),
        ('"progress": {"current": Infinity, "total": 3}', "not a number JSON allows"),
        ('"progress": {"current": 1e400, "total": 3}', "too large"),
        ('"progress": {"current": 123456789012345678901234567890, "total": 3}', "too large"),
        ('"message": "a\\u0000b"', "NUL"),
        ('"message": "\\ud800"', "surrogate"),
        ('"\\udfff": 1', "surrogate"),
    ],
)
def test_a_body_the_database_cannot_store_is_a_400_with_the_reason(
    client: FlaskClient, treatment: Treatment, body: str, reason: str
) -> None:
    raw = (
        f'{{"event": "PROGRESS", "tracking_id": "{treatment.tracking_id}", '
        f'"experiment_id": "{treatment.id}", {body}}}'
    )
    response = client.post(
        "/regions/notify", data=raw, headers=signed_headers(raw), content_type="application/json"
    )
    assert response.status_code == 400
    assert reason in json_body(response)["message"]
    assert notify(client, treatment, "SUCCESS", success=True).status_code == 200
    run_jobs()
    assert _fresh(treatment).state is Status.SUCCESS


def test_an_event_that_fails_to_apply_is_refused_and_the_rest_are_applied(
    app: Flask,
    client: FlaskClient,
    treatment: Treatment,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from webapp.treatments import apply

    calls = {"n": 0}
    real = apply._progress

    def breaks_once(treatment: Treatment, payload: dict[str, object]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug")
        real(treatment, payload)

    monkeypatch.setattr(apply, "_progress", breaks_once)
    notify(client, treatment, "PROGRESS", progress={"current": 1, "total": 2})
    notify(client, treatment, "PROGRESS", progress={"current": 2, "total": 2})
    notify(
        client, treatment, "SUCCESS", output={"results_url": _results(processing_api, treatment)}
    )
    run_jobs()
    row = _fresh(treatment)
    assert row.state is Status.SUCCESS
    assert (row.api_current, _regions()) == (2, 2)
    outcomes = [e.outcome for e in row.events if e.kind == "notification"]
    assert outcomes[0].startswith("Refused: it could not be applied")


def test_result_files_are_downloaded_outside_the_treatments_lock(
    app: Flask, client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    """While a result file downloads, a cancel goes through at once: no lock is held."""
    import threading

    from werkzeug.wrappers import Request, Response

    from webapp.lifecycle import transition

    uid = treatment.documents[0]["uid"]
    cancelled = threading.Event()

    def cancel_meanwhile() -> None:
        with app.app_context():
            row = db.session.get(Treatment, treatment.id)
            assert row is not None
            if transition(row, Status.CANCELLED, "Cancelled during a download."):
                cancelled.set()
            db.session.remove()

    def slow_file(request: Request) -> Response:
        canceller = threading.Thread(target=cancel_meanwhile)
        canceller.start()
        canceller.join(30)  # with the row locked, this would wait for the download: a deadlock
        return Response(json.dumps(regions_file(uid, boxes=3)), content_type="application/json")

    processing_api.server.expect_request("/slow.json").respond_with_handler(slow_file)
    items = [{"doc_id": uid, "result_url": f"{processing_api.url}/slow.json"}]
    notify(client, treatment, "PROGRESS", output={"results_url": items})
    run_jobs()
    assert cancelled.is_set()
    row = _fresh(treatment)
    assert row.state is Status.CANCELLED
    assert _regions() == 3  # late results of the same run are still kept
