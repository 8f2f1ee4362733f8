"""The notify endpoint: authentication, checks in DESIGN 4's order, dedupe, never a 5xx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import json_body, make_test_app, run_jobs
from tests.processing_api import ProcessingAPI, notify, signed_headers
from tests.provision import free_port
from tests.treatment_helpers import launch, make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.task_modules.regions.models import Region
from webapp.treatments.models import Treatment, TreatmentEvent


@pytest.fixture
def treatment(client: FlaskClient, logged_in: User, processing_api: ProcessingAPI) -> Treatment:
    return launch(client, make_set(logged_in))


def _events(treatment: Treatment) -> int:
    return (
        db.session.scalar(
            select(func.count(TreatmentEvent.id)).where(
                TreatmentEvent.treatment_id == treatment.id,
                TreatmentEvent.kind == "notification",
            )
        )
        or 0
    )


def _post(
    client: FlaskClient,
    body: bytes | str,
    headers: dict[str, str] | None = None,
    task: str = "regions",
    query: str = "",
) -> tuple[int, dict[str, object]]:
    response = client.post(
        f"/{task}/notify{query}", data=body, headers=headers or {}, content_type="application/json"
    )
    return response.status_code, json_body(response)


def test_checks_come_in_order(
    app: Flask, client: FlaskClient, treatment: Treatment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "NOTIFY_MAX_BYTES", 200)
    good = json.dumps({"event": "STARTED", "experiment_id": treatment.id})
    # Too large beats everything else, even a body that is not JSON and has no credentials.
    assert _post(client, "x" * 300)[0] == 413
    assert _post(client, "not json")[0] == 400
    assert _post(client, json.dumps({"event": "STARTED"}))[0] == 400
    assert _post(client, json.dumps({"event": 3, "experiment_id": treatment.id}))[0] == 400
    assert _post(client, json.dumps(["event"]))[0] == 400
    assert _post(client, good)[0] == 401
    assert _post(client, good, query="?token=forged")[0] == 403
    forged = {**signed_headers(good), "webhook-signature": "v1,AAAA"}
    assert _post(client, good, forged)[0] == 403
    unknown = json.dumps({"event": "STARTED", "experiment_id": "no-such-treatment"})
    assert _post(client, unknown, signed_headers(unknown))[0] == 404
    assert _post(client, good, signed_headers(good), task="nothing")[0] == 404
    assert _post(client, good, signed_headers(good), task="similarity")[0] == 404
    status, body = _post(client, good, signed_headers(good))
    assert status == 200
    assert body["duplicate"] is False
    assert _events(treatment) == 1


def test_a_stale_or_future_signature_is_refused(client: FlaskClient, treatment: Treatment) -> None:
    body = json.dumps({"event": "STARTED", "experiment_id": treatment.id})
    for offset in (timedelta(minutes=-6), timedelta(minutes=6)):
        headers = signed_headers(body, when=datetime.now(UTC) + offset)
        assert _post(client, body, headers)[0] == 403
    assert _events(treatment) == 0


def test_a_signature_for_another_body_is_refused(client: FlaskClient, treatment: Treatment) -> None:
    body = json.dumps({"event": "STARTED", "experiment_id": treatment.id})
    headers = signed_headers(body.replace("STARTED", "SUCCESS"))
    assert _post(client, body, headers)[0] == 403


def test_the_token_in_notify_url_is_accepted_for_apis_that_cannot_sign(
    client: FlaskClient, treatment: Treatment
) -> None:
    assert notify(client, treatment, "STARTED", sign=False, token=True).status_code == 200
    # A token is bound to its treatment.
    other = json.dumps({"event": "STARTED", "experiment_id": "another-id"})
    query = "?token=" + treatment.documents[0]["uid"]
    assert _post(client, other, query=query)[0] == 403


def test_a_duplicate_has_its_effect_once(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    uid = treatment.documents[0]["uid"]
    url = processing_api.serve("/r.json", regions_file(uid, boxes=3))
    output = {"results_url": [{"doc_id": uid, "result_url": url}]}
    first = notify(client, treatment, "PROGRESS", msg_id="msg_1", output=output)
    again = notify(client, treatment, "PROGRESS", msg_id="msg_1", output=output)
    assert json_body(first)["duplicate"] is False
    assert json_body(again)["duplicate"] is True
    # Without a webhook-id (an API that cannot sign), the body itself is the identity.
    notify(client, treatment, "ERROR", sign=False, token=True, error="x", completed=False)
    notify(client, treatment, "ERROR", sign=False, token=True, error="x", completed=False)
    run_jobs()
    db.session.expire_all()
    assert _events(treatment) == 2
    assert db.session.scalar(select(func.count(Region.id))) == 3
    assert treatment.document_errors == ["x"]


def test_started_twice_and_progress_without_figures_are_fine(
    client: FlaskClient, treatment: Treatment
) -> None:
    notify(client, treatment, "STARTED")
    notify(client, treatment, "STARTED", message=None)  # AIKON's second STARTED
    notify(client, treatment, "PROGRESS")  # AIKON sends no `progress`
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "IN_PROGRESS"
    assert treatment.api_total is None


def test_out_of_order_events_never_move_backwards_but_keep_results(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    uids = [d["uid"] for d in treatment.documents]
    first = processing_api.serve("/a.json", regions_file(uids[0], boxes=1))
    second = processing_api.serve("/b.json", regions_file(uids[1], boxes=2))
    notify(
        client,
        treatment,
        "SUCCESS",
        output={"results_url": [{"doc_id": uids[0], "result_url": first}]},
    )
    run_jobs()
    notify(client, treatment, "STARTED")
    notify(
        client,
        treatment,
        "PROGRESS",
        progress={"current": 2, "total": 2},
        output={"results_url": [{"doc_id": uids[1], "result_url": second}]},
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    assert db.session.scalar(select(func.count(Region.id))) == 3


def test_progress_then_success_listing_the_same_documents_stores_them_once(
    client: FlaskClient, treatment: Treatment, processing_api: ProcessingAPI
) -> None:
    uid = treatment.documents[0]["uid"]
    url = processing_api.serve("/a.json", regions_file(uid, boxes=4))
    items = [{"doc_id": uid, "result_url": url}]
    notify(client, treatment, "PROGRESS", output={"results_url": items})
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    assert db.session.scalar(select(func.count(Region.id))) == 4


def test_a_database_that_is_down_answers_503(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = make_test_app(dead, redis_url, tmp_path)
    body = json.dumps({"event": "STARTED", "experiment_id": "x"})
    with app.app_context():
        response = app.test_client().post(
            "/regions/notify",
            data=body,
            headers=signed_headers(body),
            content_type="application/json",
        )
    assert response.status_code == 503
    assert "database" in json_body(response)["message"]


HEADER_NAMES = st.sampled_from(
    ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "x-other"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    task=st.sampled_from(["regions", "similarity", "nothing"]),
    body=st.one_of(
        st.binary(max_size=300),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"event": st.text(max_size=10), "experiment_id": st.text(max_size=40)},
            optional={"output": JSON_VALUES, "progress": JSON_VALUES, "error": JSON_VALUES},
        ).map(lambda v: json.dumps(v).encode()),
    ),
    headers=st.dictionaries(
        HEADER_NAMES,
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        max_size=4,
    ),
    token=st.none() | st.text(max_size=70),
)
def test_arbitrary_bodies_and_headers_never_get_a_5xx(
    client: FlaskClient,
    treatment: Treatment,
    task: str,
    body: bytes,
    headers: dict[str, str],
    token: str | None,
) -> None:
    query = {"token": token} if token is not None else {}
    response = client.post(f"/{task}/notify", data=body, headers=headers, query_string=query)
    assert response.status_code < 500
    assert response.is_json
