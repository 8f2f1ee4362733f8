"""Workflows: definitions checked on save, a run whose steps are treatments started once
their inputs succeed, the state aggregated from the steps', cancel, relaunch, the refusal of a
task the processing API does not run, and what a user sees after a reload."""

from __future__ import annotations

from graphlib import CycleError
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from tests.conftest import AuthActions, json_body, make_user, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.test_api import _bearer, _token
from tests.test_callbacks import Receiver
from tests.treatment_helpers import make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.lifecycle import Status, aggregate
from webapp.treatments import history
from webapp.treatments.models import Treatment
from webapp.workflows import flow
from webapp.workflows.definitions import DefinitionErrors, checked_steps, order
from webapp.workflows.engine import dispatch_workflows
from webapp.workflows.models import Workflow

REGIONS = {"name": "regions", "task": "regions", "parameters": {}}


def _vector(name: str = "vectors", source: str = "regions") -> dict[str, Any]:
    return {
        "name": name,
        "task": "vectorization",
        "parameters": {},
        "inputs": {"regions_treatment": source},
    }


@pytest.fixture
def headers(app: Flask, user: User) -> dict[str, str]:
    return _bearer(_token(app, user))


def _steps(workflow_id: str) -> dict[str, Treatment]:
    workflow = db.session.get(Workflow, workflow_id)
    assert workflow is not None
    db.session.refresh(workflow)
    return {t.workflow_step: db.session.get(Treatment, t.id) for t in workflow.treatments}  # type: ignore[misc]


def _state(workflow_id: str) -> Status:
    workflow = db.session.get(Workflow, workflow_id)
    assert workflow is not None
    db.session.refresh(workflow)
    return workflow.state


def _succeed(
    client: FlaskClient, processing_api: ProcessingAPI, treatment: Treatment, boxes: int = 2
) -> None:
    """The processing API's run of a regions step ends with every document's regions."""
    db.session.refresh(treatment)
    items = []
    for document in treatment.documents:
        uid = document["uid"]
        url = processing_api.serve(f"/results/{uid}.json", regions_file(uid, boxes=boxes))
        items.append({"doc_id": uid, "result_url": url})
    assert notify(client, treatment, "SUCCESS", output={"results_url": items}).status_code == 200
    run_jobs()


def _full_analysis(client: FlaskClient, user: User, headers: dict[str, str]) -> dict[str, Any]:
    """Full analysis started on a new set, its first step launched."""
    created = client.post(
        "/api/v1/workflows/",
        json={"definition": "full-analysis", "document_set": make_set(user).id},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    run_jobs()
    return dict(json_body(created))


@pytest.mark.parametrize(
    ("steps", "where", "says"),
    [
        ([{"name": "x", "task": "ocr", "parameters": {}}], "steps.0.task", "no task is named"),
        ([_vector()], "steps.0.inputs.regions_treatment", "which is not a regions step"),
        (
            [REGIONS, {**_vector(), "inputs": {}}],
            "steps.1.inputs.regions_treatment",
            "needs the step whose regions it runs on",
        ),
        ([REGIONS, _vector("a", "vectors")], "steps.1.inputs.regions_treatment", "not a regions"),
        (
            [
                REGIONS,
                {
                    "name": "s",
                    "task": "similarity",
                    "parameters": {"topk": 0},
                    "inputs": {"regions_treatment": "regions"},
                },
            ],
            "steps.1.parameters.topk",
            "between 1 and 100",
        ),
        ([REGIONS, REGIONS], "steps.1.name", "Two steps are named"),
        (
            [REGIONS, {**REGIONS, "name": "again", "parameters": {"nothing": 1}}],
            "steps.1.parameters.nothing",
            "Unknown parameter",
        ),
        ([], "steps", "Length must be between 1 and 20."),
    ],
)
def test_a_definition_is_refused_with_a_message_per_problem(
    client: FlaskClient, headers: dict[str, str], steps: list[Any], where: str, says: str
) -> None:
    response = client.post(
        "/api/v1/workflows/definitions", json={"name": "Mine", "steps": steps}, headers=headers
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    fields = json_body(response)["fields"]
    assert where in fields, fields
    assert says in " ".join(fields[where])


def test_steps_are_ordered_after_their_inputs_and_a_loop_is_refused(user: User) -> None:
    steps = [_vector("strokes"), REGIONS]
    assert order(checked_steps(steps, user)) == ["regions", "strokes"]
    with pytest.raises(CycleError):
        order([{"name": "a", "inputs": {"x": "b"}}, {"name": "b", "inputs": {"x": "a"}}])
    with pytest.raises(DefinitionErrors) as refused:
        checked_steps([_vector("v", "v")], user)  # a step that would run on itself
    assert "steps.0.inputs.regions_treatment" in refused.value.fields


def test_a_saved_definition_is_listed_and_runs_for_its_owner_only(
    app: Flask, client: FlaskClient, user: User, other_user: User, headers: dict[str, str]
) -> None:
    saved = client.post(
        "/api/v1/workflows/definitions",
        json={"name": "Regions then strokes", "steps": [REGIONS, _vector()]},
        headers=headers,
    )
    assert saved.status_code == 201, saved.get_data(as_text=True)
    key = json_body(saved)["key"]
    mine = json_body(client.get("/api/v1/workflows/definitions", headers=headers))
    assert [d["key"] for d in mine] == ["full-analysis", key]
    theirs = json_body(
        client.get("/api/v1/workflows/definitions", headers=_bearer(_token(app, other_user)))
    )
    assert [d["key"] for d in theirs] == ["full-analysis"]
    refused = client.post(
        "/api/v1/workflows/",
        json={"definition": key, "document_set": make_set(other_user).id},
        headers=_bearer(_token(app, other_user)),
    )
    assert refused.status_code == 400
    assert "definition" in json_body(refused)["fields"]
    # Only its owner deletes it; the built-in one stays.
    gone = f"/api/v1/workflows/definitions/{key}"
    assert client.delete(gone, headers=_bearer(_token(app, other_user))).status_code == 404
    builtin = "/api/v1/workflows/definitions/full-analysis"
    assert client.delete(builtin, headers=headers).status_code == 404
    past_any_id = "/api/v1/workflows/definitions/2147483648"
    assert client.delete(past_any_id, headers=headers).status_code == 404
    assert client.delete(gone, headers=headers).status_code == 204
    mine = json_body(client.get("/api/v1/workflows/definitions", headers=headers))
    assert [d["key"] for d in mine] == ["full-analysis"]


def _results_of(processing_api: ProcessingAPI, uids: list[str]) -> list[dict[str, str]]:
    return [
        {
            "doc_id": uid,
            "result_url": processing_api.serve(f"/results/{uid}.json", regions_file(uid)),
        }
        for uid in uids
    ]


def _uids(parts: list[Treatment]) -> list[list[str]]:
    return [p.document_uids for p in parts]


def test_full_analysis_flows_document_by_document(
    client: FlaskClient,
    auth: AuthActions,
    user: User,
    headers: dict[str, str],
    processing_api: ProcessingAPI,
) -> None:
    document_set = make_set(user)
    created = client.post(
        "/api/v1/workflows/",
        json={"definition": "full-analysis", "document_set": document_set.id},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    workflow = json_body(created)
    assert {s["name"]: s["status"] for s in workflow["steps"]} == {
        "regions": "PENDING",
        "vectorization": "WAITING",
        "similarity": "WAITING",
    }
    run_jobs()
    steps = _steps(workflow["id"])
    regions = steps["regions"]
    assert regions.state is Status.STARTED
    assert _state(workflow["id"]) is Status.IN_PROGRESS
    assert [s["experiment_id"] for s in processing_api.starts] == [regions.id]
    first, second = regions.document_uids
    # The regions of the first document are stored: the later steps start on it at once,
    # while the regions step still runs on the second.
    notify(
        client, regions, "PROGRESS", output={"results_url": _results_of(processing_api, [first])}
    )
    run_jobs()
    steps = _steps(workflow["id"])
    assert steps["regions"].state is Status.IN_PROGRESS
    for name in ("vectorization", "similarity"):
        assert steps[name].state is Status.IN_PROGRESS
        assert steps[name].parameters["regions_treatment"] == regions.id
        [part] = steps[name].parts()
        assert part.state is Status.STARTED
        assert len(part.documents) == 1
        assert part.documents[0]["uid"].startswith(first)
    assert len(processing_api.starts) == 3
    # The second document's regions come with the end of the regions step.
    notify(
        client, regions, "SUCCESS", output={"results_url": _results_of(processing_api, [second])}
    )
    run_jobs()
    steps = _steps(workflow["id"])
    assert steps["regions"].state is Status.SUCCESS
    vectorization, similarity = steps["vectorization"], steps["similarity"]
    one, two = (d["uid"] for d in vectorization.documents)
    assert _uids(vectorization.parts()) == [[one], [two]]
    # A similarity compares the documents before it again: new ones wait for the launch
    # under way, then go with every one before them.
    assert _uids(similarity.parts()) == [[one]]
    assert len(processing_api.starts) == 4
    for step in (vectorization, similarity):
        assert step.state is Status.IN_PROGRESS  # its parts still run
    for part in similarity.parts() + vectorization.parts():
        notify(client, part, "SUCCESS", success=True)
        run_jobs()
    assert _uids(similarity.parts()) == [[one], [two, one]]
    assert _steps(workflow["id"])["similarity"].state is Status.IN_PROGRESS
    notify(client, similarity.parts()[-1], "SUCCESS", success=True)
    run_jobs()
    steps = _steps(workflow["id"])
    assert {n: t.state for n, t in steps.items()} == dict.fromkeys(steps, Status.SUCCESS)
    assert _state(workflow["id"]) is Status.SUCCESS
    got = json_body(client.get(f"/api/v1/workflows/{workflow['id']}", headers=headers))
    assert got["status"] == "SUCCESS"
    # A step's parts are its own: not among the user's treatments.
    listed = json_body(client.get("/api/v1/treatments/?per_page=50", headers=headers))
    assert {t["id"] for t in listed["items"]} == {t.id for t in steps.values()}
    # What the owner sees after a reload: the graph with each step and its treatment.
    auth.login(user)
    page = client.get(f"/workflows/{workflow['id']}").get_data(as_text=True)
    for name in ("regions", "vectorization", "similarity"):
        assert f'data-step="{name}"' in page
        assert f"/treatments/{steps[name].id}" in page
    assert 'hx-trigger="every 2s"' not in page  # ended: nothing left to poll
    step_page = client.get(f"/treatments/{similarity.id}").get_data(as_text=True)
    for part in similarity.parts():
        assert f"/treatments/{part.id}" in step_page


def test_a_failed_step_cancels_what_waits_on_it_and_fails_the_workflow(
    client: FlaskClient, user: User, headers: dict[str, str], processing_api: ProcessingAPI
) -> None:
    workflow = _full_analysis(client, user, headers)
    regions = _steps(workflow["id"])["regions"]
    notify(client, regions, "ERROR", error="[ValueError] boom", completed=True)
    run_jobs()
    steps = _steps(workflow["id"])
    assert steps["regions"].state is Status.ERROR
    assert steps["vectorization"].state is Status.CANCELLED
    assert "regions" in steps["vectorization"].message
    assert _state(workflow["id"]) is Status.ERROR
    assert len(processing_api.starts) == 1  # nothing ran on regions that were never found


def test_cancel_stops_every_running_step_at_the_api_and_relaunch_repeats_it(
    client: FlaskClient, user: User, headers: dict[str, str], processing_api: ProcessingAPI
) -> None:
    workflow = _full_analysis(client, user, headers)
    cancelled = client.post(f"/api/v1/workflows/{workflow['id']}/cancel", headers=headers)
    assert json_body(cancelled)["status"] == "CANCELLED"
    assert processing_api.cancels == ["/regions/trk-1/cancel"]
    steps = _steps(workflow["id"])
    assert {n: t.state for n, t in steps.items()} == {
        "regions": Status.CANCELLED,
        "vectorization": Status.CANCELLED,
        "similarity": Status.CANCELLED,
    }
    again = client.post(f"/api/v1/workflows/{workflow['id']}/cancel", headers=headers)
    assert again.status_code == 409
    relaunched = client.post(f"/api/v1/workflows/{workflow['id']}/relaunch", headers=headers)
    assert relaunched.status_code == 201
    body = json_body(relaunched)
    assert (body["relaunch_of"], body["name"]) == (workflow["id"], "Full analysis")
    assert [s["status"] for s in body["steps"]] == ["PENDING", "WAITING", "WAITING"]


def test_a_workflow_is_refused_up_front_when_the_api_does_not_run_a_step(
    client: FlaskClient,
    user: User,
    headers: dict[str, str],
    processing_api: ProcessingAPI,
    httpserver: HTTPServer,
) -> None:
    processing_api.offered.discard("similarity")
    document_set = make_set(user)
    refused = client.post(
        "/api/v1/workflows/",
        json={"definition": "full-analysis", "document_set": document_set.id},
        headers=headers,
    )
    assert refused.status_code == 400
    assert "does not run Similarity" in json_body(refused)["fields"]["definition"][0]
    assert db.session.scalars(db.select(Workflow)).all() == []
    assert db.session.scalars(db.select(Treatment)).all() == []


def test_the_clock_moves_on_a_workflow_whose_worker_died(
    app: Flask,
    client: FlaskClient,
    user: User,
    headers: dict[str, str],
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workflow = _full_analysis(client, user, headers)
    regions = _steps(workflow["id"])["regions"]
    # Its success is stored, but the worker dies before it starts the next steps.
    with monkeypatch.context() as dying:
        dying.setattr(history, "announce_move", lambda treatment, target: None)
        dying.setattr(flow, "flow_from", lambda upstream: None)
        _succeed(client, processing_api, regions)
    assert _steps(workflow["id"])["vectorization"].state is Status.WAITING
    assert dispatch_workflows() == 0  # not before the grace period
    monkeypatch.setitem(app.config, "DISPATCH_GRACE_SECONDS", 0)
    assert dispatch_workflows() == 1
    run_jobs()
    vectorization = _steps(workflow["id"])["vectorization"]
    assert vectorization.state is Status.IN_PROGRESS
    assert {part.state for part in vectorization.parts()} == {Status.STARTED}


@pytest.mark.parametrize(
    ("parts", "whole"),
    [
        ([Status.PENDING, Status.WAITING], Status.PENDING),
        ([Status.STARTED, Status.WAITING], Status.IN_PROGRESS),
        ([Status.SUCCESS, Status.WAITING], Status.IN_PROGRESS),
        ([Status.ERROR, Status.IN_PROGRESS], Status.IN_PROGRESS),
        ([Status.SUCCESS, Status.SUCCESS], Status.SUCCESS),
        ([Status.SUCCESS, Status.ERROR], Status.ERROR),
        ([Status.CANCELLED, Status.ERROR], Status.ERROR),
        ([Status.SUCCESS, Status.CANCELLED], Status.CANCELLED),
        ([Status.RETRYING, Status.SUCCESS], Status.IN_PROGRESS),
    ],
)
def test_the_workflows_state_is_its_steps(parts: list[Status], whole: Status) -> None:
    assert aggregate(parts) is whole


def test_the_pages_run_a_workflow_and_save_a_definition_with_its_messages(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in)
    page = client.get("/workflows/")
    assert page.status_code == 200
    assert "Full analysis" in page.get_data(as_text=True)
    started = client.post(
        "/workflows/", data={"definition": "full-analysis", "document_set": str(document_set.id)}
    )
    assert started.status_code == 302
    assert "/workflows/" in started.headers["Location"]
    live = client.get(started.headers["Location"] + "/live")
    assert live.status_code == 200
    assert 'data-step="similarity"' in live.get_data(as_text=True)
    bad = client.post(
        "/workflows/definitions/new",
        data={"name": "Broken", "visibility": "private", "steps": '[{"name": "x", "task": "ocr"}]'},
    )
    assert bad.status_code == 400
    assert "no task is named “ocr”" in bad.get_data(as_text=True)
    not_json = client.post(
        "/workflows/definitions/new", data={"name": "B", "visibility": "private", "steps": "[{"}
    )
    assert not_json.status_code == 400
    assert "Not JSON" in not_json.get_data(as_text=True)
    good = client.post(
        "/workflows/definitions/new",
        data={
            "name": "Just regions",
            "visibility": "private",
            "steps": '[{"name": "r", "task": "regions"}]',
        },
    )
    assert good.status_code == 302
    assert "Just regions" in client.get("/workflows/").get_data(as_text=True)


def test_a_workflows_ending_is_called_back_with_its_steps_counts(
    app: Flask,
    client: FlaskClient,
    user: User,
    headers: dict[str, str],
    processing_api: ProcessingAPI,
    httpserver: HTTPServer,
) -> None:
    receiver = Receiver(httpserver)
    workflow = json_body(
        client.post(
            "/api/v1/workflows/",
            json={
                "definition": "full-analysis",
                "document_set": make_set(user).id,
                "callback_url": receiver.url,
            },
            headers=headers,
        )
    )
    run_jobs()
    client.post(f"/api/v1/workflows/{workflow['id']}/cancel", headers=headers)
    run_jobs()
    secret = json_body(client.get("/api/v1/callbacks/secret", headers=headers))["secret"]
    [summary] = receiver.verified(secret)
    assert summary["type"] == "workflow.ended"
    assert summary["data"]["status"] == "CANCELLED"
    assert summary["data"]["counts"]["steps"] == 3
    assert summary["data"]["links"]["page"].endswith(f"/workflows/{workflow['id']}")
    [delivery] = json_body(
        client.get(f"/api/v1/workflows/{workflow['id']}/callbacks", headers=headers)
    )
    assert delivery["state"] == "delivered"


def test_cancel_stops_the_running_parts_of_a_flowing_step_at_the_api(
    client: FlaskClient, user: User, headers: dict[str, str], processing_api: ProcessingAPI
) -> None:
    workflow = _full_analysis(client, user, headers)
    regions = _steps(workflow["id"])["regions"]
    stored = {"results_url": _results_of(processing_api, regions.document_uids[:1])}
    notify(client, regions, "PROGRESS", output=stored)
    run_jobs()
    assert len(processing_api.starts) == 3  # the regions, and a part of each later step
    cancelled = client.post(f"/api/v1/workflows/{workflow['id']}/cancel", headers=headers)
    assert json_body(cancelled)["status"] == "CANCELLED"
    routes = sorted(path.split("/")[1] for path in processing_api.cancels)
    assert routes == ["regions", "similarity", "vectorization"]
    steps = _steps(workflow["id"])
    assert {t.state for t in steps.values()} == {Status.CANCELLED}
    assert {p.state for s in steps.values() for p in s.parts()} == {Status.CANCELLED}


def test_a_definition_shared_with_a_user_is_theirs_to_run_and_no_one_elses(
    app: Flask,
    client: FlaskClient,
    user: User,
    other_user: User,
    headers: dict[str, str],
    processing_api: ProcessingAPI,
) -> None:
    unknown = client.post(
        "/api/v1/workflows/definitions",
        json={
            "name": "Shared",
            "steps": [REGIONS],
            "visibility": "shared",
            "shared_with": ["nobody@example.org"],
        },
        headers=headers,
    )
    assert unknown.status_code == 400
    assert "nobody@example.org" in json_body(unknown)["fields"]["shared_with"][0]
    saved = client.post(
        "/api/v1/workflows/definitions",
        json={
            "name": "Shared",
            "steps": [REGIONS],
            "visibility": "shared",
            "shared_with": [other_user.email],
        },
        headers=headers,
    )
    assert saved.status_code == 201, saved.get_data(as_text=True)
    key = json_body(saved)["key"]
    assert json_body(saved)["shared_with"] == [other_user.email]
    theirs = _bearer(_token(app, other_user))
    ran = client.post(
        "/api/v1/workflows/",
        json={"definition": key, "document_set": make_set(other_user).id},
        headers=theirs,
    )
    assert ran.status_code == 201, ran.get_data(as_text=True)
    third = make_user("third@example.org")
    refused = client.post(
        "/api/v1/workflows/",
        json={"definition": key, "document_set": make_set(third).id},
        headers=_bearer(_token(app, third)),
    )
    assert refused.status_code == 400


def test_a_step_whose_every_part_failed_fails_with_their_errors(
    client: FlaskClient, user: User, headers: dict[str, str], processing_api: ProcessingAPI
) -> None:
    workflow = _full_analysis(client, user, headers)
    regions = _steps(workflow["id"])["regions"]
    stored = {"results_url": _results_of(processing_api, regions.document_uids)}
    notify(client, regions, "SUCCESS", output=stored)
    run_jobs()
    steps = _steps(workflow["id"])
    for part in steps["vectorization"].parts():
        notify(client, part, "ERROR", error="[OSError] no strokes", completed=True)
        run_jobs()
    for part in steps["similarity"].parts():
        notify(client, part, "SUCCESS", success=True)
        run_jobs()
    steps = _steps(workflow["id"])
    vectorization = steps["vectorization"]
    assert vectorization.state is Status.ERROR
    assert "Every document failed" in vectorization.error
    assert "no strokes" in vectorization.error
    assert steps["similarity"].state is Status.SUCCESS
    assert _state(workflow["id"]) is Status.ERROR
