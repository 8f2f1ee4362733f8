"""Retrying only what failed: a new treatment on exactly the failed documents, with the same
parameters, linked to the first, whose results then show the retried documents' too."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, json_body, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.test_api import _bearer, _token
from tests.treatment_helpers import make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.task_modules.similarity import SimilarityModule
from webapp.treatments.models import Treatment


def _fresh(treatment_id: str) -> Treatment:
    treatment = db.session.get(Treatment, treatment_id)
    assert treatment is not None
    db.session.refresh(treatment)
    return treatment


def test_the_failed_documents_are_retried_alone_and_their_results_show_with_the_first(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    user: User,
    processing_api: ProcessingAPI,
) -> None:
    headers = _bearer(_token(app, user))
    document_set = make_set(user, digitizations=3)
    created = json_body(
        client.post(
            "/api/v1/treatments/",
            json={
                "document_set": document_set.id,
                "task": "regions",
                "parameters": {"model": "fancy"},
            },
            headers=headers,
        )
    )
    run_jobs()
    first = _fresh(created["id"])
    ok, *failed = first.document_uids
    url = processing_api.serve(f"/r-{ok}.json", regions_file(ok, boxes=2))
    errors = [f"{uid}: the images could not be fetched" for uid in failed]
    notify(
        client,
        first,
        "SUCCESS",
        output={"results_url": [{"doc_id": ok, "result_url": url}], "error": errors},
    )
    run_jobs()
    got = json_body(client.get(f"/api/v1/treatments/{first.id}", headers=headers))
    assert got["status"] == "SUCCESS"
    assert got["failed_documents"] == failed
    auth.login(user)
    page = client.get(f"/treatments/{first.id}").get_data(as_text=True)
    assert "Retry the 2 failed documents" in page
    retried = client.post(f"/api/v1/treatments/{first.id}/retry", headers=headers)
    assert retried.status_code == 201, retried.get_data(as_text=True)
    retry = json_body(retried)
    assert retry["retry_of"] == first.id
    assert retry["parameters"] == got["parameters"]
    run_jobs()
    assert [d["uid"] for d in processing_api.starts[-1]["documents"]] == failed
    second = _fresh(retry["id"])
    items = [
        {"doc_id": uid, "result_url": processing_api.serve(f"/r-{uid}.json", regions_file(uid))}
        for uid in failed
    ]
    notify(client, second, "SUCCESS", output={"results_url": items})
    run_jobs()
    assert _fresh(second.id).failed_documents == []
    # The first run's results now hold every document's, the retried ones' included.
    results = json_body(client.get(f"/api/v1/treatments/{first.id}/results", headers=headers))
    assert results["total"] == 6
    assert {item["crop_id"].split("_0001_")[0] for item in results["items"]} == {ok, *failed}
    # Linked both ways, after a reload.
    page = client.get(f"/treatments/{first.id}").get_data(as_text=True)
    assert f"/treatments/{second.id}" in page
    later = client.get(f"/treatments/{second.id}").get_data(as_text=True)
    assert f"/treatments/{first.id}" in later


def test_nothing_to_retry_is_a_clear_refusal(
    app: Flask, client: FlaskClient, user: User, processing_api: ProcessingAPI
) -> None:
    headers = _bearer(_token(app, user))
    created = json_body(
        client.post(
            "/api/v1/treatments/",
            json={"document_set": make_set(user).id, "task": "regions"},
            headers=headers,
        )
    )
    running = client.post(f"/api/v1/treatments/{created['id']}/retry", headers=headers)
    assert running.status_code == 409
    assert "no failed documents" in json_body(running)["message"]


@pytest.mark.parametrize(
    ("done", "failed"),
    [
        (["a-a", "a-b", "b-b", "a-c", "b-c", "c-c"], []),
        (["a-a", "b-a", "b-b"], ["a", "b", "c"]),
        (["a-a", "a-b", "b-b", "c-c", "a-c"], ["b", "c"]),
    ],
)
def test_a_similarity_retries_the_documents_of_its_missing_pairs(
    done: list[str], failed: list[str]
) -> None:
    documents = [{"uid": uid} for uid in "abc"]
    assert [d["uid"] for d in SimilarityModule.failed_documents(documents, done)] == failed
