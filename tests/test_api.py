"""The JSON API: its OpenAPI document, tokens, one error shape, and treatments with the pages'
rules for who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.conftest import AuthActions, json_body, make_user, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.queries import count_queries
from tests.treatment_helpers import make_set
from webapp.auth.models import ApiToken, User
from webapp.extensions import db
from webapp.timeline.models import TimelineEntry
from webapp.treatments.models import Treatment


def _token(app: Flask, user: User, name: str = "script") -> str:
    result = app.test_cli_runner().invoke(args=["users", "token", user.email, "--name", name])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(app: Flask, user: User) -> str:
    return _token(app, user)


def test_the_openapi_document_is_generated_and_the_reference_page_served(
    client: FlaskClient,
) -> None:
    spec = json_body(client.get("/api/v1/openapi.json"))
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/treatments/", "/api/v1/treatments/{treatment_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    create = spec["paths"]["/api/v1/treatments/"]["post"]
    assert "400" in create["responses"]
    page = client.get("/api/v1/")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.get_data(as_text=True)


def test_no_token_is_a_401_in_the_apis_error_shape(
    client: FlaskClient, app: Flask, user: User
) -> None:
    response = client.get("/api/v1/treatments/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    body = json_body(response)
    assert body["error"] == "Unauthorized"
    assert "Bearer" in body["message"]
    assert client.get("/api/v1/treatments/", headers=_bearer("sct_forged")).status_code == 401
    token = _token(app, user)
    row = db.session.scalars(select(ApiToken)).one()
    assert token not in (row.digest, row.hint)  # only its digest is kept
    db.session.delete(row)
    db.session.commit()
    assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 401


def test_the_cli_refuses_an_unknown_account_or_a_bad_name(app: Flask, user: User) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "token", "nobody@example.org"]).exit_code == 1
    assert (
        "Name the token" in runner.invoke(args=["users", "token", user.email, "--name", " "]).output
    )


def test_treatments_are_launched_followed_and_ended_through_the_api(
    client: FlaskClient, user: User, token: str, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(user)
    headers = _bearer(token)
    created = client.post(
        "/api/v1/treatments/",
        json={"document_set": document_set.id, "task": "regions", "parameters": {"model": "fancy"}},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    treatment = json_body(created)
    assert (treatment["status"], treatment["task"], treatment["parameters"]["model"]) == (
        "PENDING",
        "regions",
        "fancy",
    )
    assert treatment["progress"] == {
        "done": 0,
        "total": 2,
        "unit": "documents",
        "text": "0 of 2 documents",
        "fraction": 0.0,
    }
    run_jobs()
    got = json_body(client.get(f"/api/v1/treatments/{treatment['id']}", headers=headers))
    assert got["status"] == "STARTED"
    listed = json_body(client.get("/api/v1/treatments/?status=STARTED&per_page=1", headers=headers))
    assert (listed["total"], listed["items"][0]["id"]) == (1, treatment["id"])
    events = json_body(client.get(f"/api/v1/treatments/{treatment['id']}/events", headers=headers))
    assert [e["event"] for e in events] == ["STARTED"]
    # Delete refuses while it runs; cancel, then relaunch and delete.
    assert (
        client.delete(f"/api/v1/treatments/{treatment['id']}", headers=headers).status_code == 409
    )
    cancelled = client.post(f"/api/v1/treatments/{treatment['id']}/cancel", headers=headers)
    assert json_body(cancelled)["status"] == "CANCELLED"
    again = client.post(f"/api/v1/treatments/{treatment['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert "already ended" in json_body(again)["message"]
    relaunched = client.post(f"/api/v1/treatments/{treatment['id']}/relaunch", headers=headers)
    assert relaunched.status_code == 201
    assert json_body(relaunched)["relaunch_of"] == treatment["id"]
    assert (
        client.delete(f"/api/v1/treatments/{treatment['id']}", headers=headers).status_code == 204
    )
    assert client.get(f"/api/v1/treatments/{treatment['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"document_set", "task"}),
        ({"document_set": "x", "task": "regions"}, {"document_set"}),
        ({"document_set": 0, "task": "nothing"}, {"document_set"}),
        ({"task": "nothing", "document_set": -1}, {"document_set"}),
        ({"task": "regions", "document_set": 2**31}, {"document_set"}),
        ({"parameters": [], "task": "regions", "document_set": 1}, {"parameters"}),
    ],
)
def test_bad_launches_get_a_message_per_field(
    client: FlaskClient, user: User, token: str, body: dict[str, Any], fields: set[str]
) -> None:
    response = client.post("/api/v1/treatments/", json=body, headers=_bearer(token))
    assert response.status_code == 400
    answer = json_body(response)
    assert set(answer["fields"]) == fields, answer
    assert answer["message"]
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 0


def test_a_tasks_parameters_are_checked_by_its_own_form(
    client: FlaskClient, user: User, token: str, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(user)
    response = client.post(
        "/api/v1/treatments/",
        json={
            "document_set": document_set.id,
            "task": "similarity",
            "parameters": {
                "topk": 1000,
                "colour": "red",
                "regions_treatment": "nope",
                "nested": {},
            },
        },
        headers=_bearer(token),
    )
    assert response.status_code == 400
    fields = json_body(response)["fields"]
    assert set(fields) >= {
        "parameters.topk",
        "parameters.colour",
        "parameters.regions_treatment",
        "parameters.nested",
    }
    assert fields["parameters.colour"] == ["Unknown parameter."]
    unknown_task = client.post(
        "/api/v1/treatments/",
        json={"document_set": document_set.id, "task": "nothing"},
        headers=_bearer(token),
    )
    assert set(json_body(unknown_task)["fields"]) == {"task"}


def test_what_a_user_may_not_see_is_a_404(
    app: Flask,
    client: FlaskClient,
    user: User,
    other_user: User,
    processing_api: ProcessingAPI,
    token: str,
) -> None:
    theirs = make_set(other_user)
    response = client.post(
        "/api/v1/treatments/",
        json={"document_set": theirs.id, "task": "regions"},
        headers=_bearer(_token(app, other_user)),
    )
    treatment_id = json_body(response)["id"]
    for method, path in (
        ("get", f"/api/v1/treatments/{treatment_id}"),
        ("get", f"/api/v1/treatments/{treatment_id}/events"),
        ("post", f"/api/v1/treatments/{treatment_id}/cancel"),
        ("delete", f"/api/v1/treatments/{treatment_id}"),
    ):
        answer = getattr(client, method)(path, headers=_bearer(token))
        assert answer.status_code == 404, path
        assert json_body(answer)["error"] == "Not Found"
    assert json_body(client.get("/api/v1/treatments/", headers=_bearer(token)))["total"] == 0
    mine = client.post(
        "/api/v1/treatments/",
        json={"document_set": theirs.id, "task": "regions"},
        headers=_bearer(token),
    )
    assert mine.status_code == 404
    assert "No such document set" in json_body(mine)["message"]


def test_a_token_is_rate_limited_on_its_own(
    app: Flask, client: FlaskClient, user: User, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "3 per minute")
    codes = [
        client.get("/api/v1/treatments/", headers=_bearer(token)).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    other = _token(app, user, "another")
    assert client.get("/api/v1/treatments/", headers=_bearer(other)).status_code == 200


def test_a_token_notes_when_it_was_last_used_at_most_once_a_minute(
    client: FlaskClient, user: User, token: str
) -> None:
    row = db.session.scalars(select(ApiToken)).one()
    assert row.last_used_at is None
    assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 200
    db.session.expire_all()
    first = row.last_used_at
    assert first is not None
    with count_queries() as statements:
        assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    db.session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    db.session.commit()
    assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 200
    db.session.expire_all()
    assert row.last_used_at is not None
    assert row.last_used_at >= first


def test_a_task_start_costs_the_token_check_and_one_statement_with_its_timeline_entry(
    client: FlaskClient, user: User, token: str, backend: str
) -> None:
    start = {"name": "sum", "inputs": {"numbers": [1]}}
    # The first use of a token is noted; then a start asks nothing more of the database.
    assert client.post("/api/v1/tasks/", json=start, headers=_bearer(token)).status_code == 201
    with count_queries() as statements:
        started = client.post("/api/v1/tasks/", json=start, headers=_bearer(token))
    assert started.status_code == 201
    assert [s.split()[0].upper() for s in statements] == [
        "SELECT",
        *(["WITH"] if backend == "postgresql" else ["INSERT", "INSERT"]),
    ]
    entry = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.object_id == json_body(started)["id"])
    ).one()
    assert (entry.action, entry.object_kind, entry.object_label, entry.actor_id) == (
        "task.start",
        "task",
        "sum",
        user.id,
    )


def test_the_token_of_a_deactivated_account_is_refused(
    client: FlaskClient, user: User, token: str
) -> None:
    user.active = False
    db.session.commit()
    refused = client.get("/api/v1/treatments/", headers=_bearer(token))
    assert refused.status_code == 401
    assert "unknown or has been revoked" in json_body(refused)["message"]


def test_tokens_are_made_and_revoked_on_the_account_page(
    client: FlaskClient, logged_in: User
) -> None:
    made = client.post("/account/tokens", data={"name": "nightly export"})
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    token = html.split('<pre class="small token">')[1].split("</pre>")[0]
    assert token.startswith("sct_")
    assert token not in (made.headers.get("Set-Cookie") or "")
    client.post("/logout")
    assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 200
    auth = AuthActions(client)
    auth.login(logged_in)
    page = client.get("/account/password").get_data(as_text=True)
    assert "<title>Your account · Scriptorium</title>" in page
    assert page.count('id="tokens"') == 1
    assert "nightly export" in page
    assert token not in page  # shown once
    assert client.post("/account/tokens", data={"name": ""}).status_code == 400
    row = db.session.scalars(select(ApiToken)).one()
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    assert client.get("/api/v1/treatments/", headers=_bearer(token)).status_code == 401


def test_a_session_reaches_the_api_too(client: FlaskClient, logged_in: User) -> None:
    assert client.get("/api/v1/treatments/").status_code == 200


def test_document_sets_are_built_and_shared_through_the_api(
    app: Flask, client: FlaskClient, user: User, other_user: User, token: str
) -> None:
    from tests.factories import make_digitization, make_witness

    headers = _bearer(token)
    witness = make_witness(user, "MS API")
    make_digitization(witness, pages=2)
    created = client.post(
        "/api/v1/document-sets/", json={"title": "  From a script "}, headers=headers
    )
    assert created.status_code == 201
    set_id = json_body(created)["id"]
    assert json_body(created)["title"] == "From a script"
    added = client.post(
        f"/api/v1/document-sets/{set_id}/members",
        json={"kind": "witness", "id": witness.id},
        headers=headers,
    )
    assert json_body(added)["members"] == [{"kind": "witness", "id": witness.id, "label": "MS API"}]
    assert json_body(added)["digitizations"] == 1
    unknown = client.post(
        f"/api/v1/document-sets/{set_id}/members",
        json={"kind": "witness", "id": 999999},
        headers=headers,
    )
    assert set(json_body(unknown)["fields"]) == {"id"}
    bad_kind = client.post(
        f"/api/v1/document-sets/{set_id}/members", json={"kind": "shelf", "id": 1}, headers=headers
    )
    assert set(json_body(bad_kind)["fields"]) == {"kind"}
    # Shared with another account, which then sees it and may launch on it, not change it.
    nobody = client.put(
        f"/api/v1/document-sets/{set_id}/sharing",
        json={"visibility": "shared", "shared_with": ["no@example.org"]},
        headers=headers,
    )
    assert "No account for: no@example.org" in json_body(nobody)["fields"]["shared_with"][0]
    shared = client.put(
        f"/api/v1/document-sets/{set_id}/sharing",
        json={"visibility": "shared", "shared_with": [other_user.email]},
        headers=headers,
    )
    assert json_body(shared)["shared_with"] == [other_user.email]
    theirs = _bearer(_token(app, other_user))
    assert [s["id"] for s in json_body(client.get("/api/v1/document-sets/", headers=theirs))] == [
        set_id
    ]
    assert client.delete(f"/api/v1/document-sets/{set_id}", headers=theirs).status_code == 404
    removed = client.delete(
        f"/api/v1/document-sets/{set_id}/members/witness/{witness.id}", headers=headers
    )
    assert json_body(removed)["members"] == []
    assert client.delete(f"/api/v1/document-sets/{set_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/document-sets/{set_id}", headers=headers).status_code == 404


def test_the_catalogue_is_read_through_the_api(client: FlaskClient, user: User, token: str) -> None:
    from tests.factories import make_digitization, make_witness, make_work

    work = make_work(user, "Theorica planetarum")
    witness = make_witness(user, "MS Catalogued", place="Oxford")
    witness.works.append(work)
    digitization = make_digitization(witness, pages=3)
    make_witness(user, "MS Other")
    headers = _bearer(token)
    found = json_body(client.get(f"/api/v1/witnesses?q={digitization.ref}", headers=headers))
    assert found["total"] == 1
    (item,) = found["items"]
    assert (item["siglum"], item["works"][0]["label"]) == (
        "MS Catalogued",
        "Sacrobosco, Theorica planetarum",
    )
    (scan,) = item["digitizations"]
    assert scan["pages"] == 3
    assert scan["manifest_v3"] == f"http://localhost/iiif/{digitization.ref}/v3/manifest.json"
    assert (
        json_body(client.get(f"/api/v1/digitizations/{digitization.id}", headers=headers))["ref"]
        == digitization.ref
    )
    assert client.get("/api/v1/witnesses/999999", headers=headers).status_code == 404
    assert json_body(client.get("/api/v1/works?q=theorica", headers=headers))["items"] == [
        {"id": work.id, "label": "Sacrobosco, Theorica planetarum"}
    ]
    assert json_body(client.get("/api/v1/series", headers=headers))["total"] == 0
    assert client.get("/api/v1/witnesses?per_page=500", headers=headers).status_code == 400


def test_results_and_exports_come_through_the_api(
    client: FlaskClient, user: User, token: str, processing_api: ProcessingAPI
) -> None:
    from tests.treatment_helpers import regions_file

    headers = _bearer(token)
    document_set = make_set(user)
    created = json_body(
        client.post(
            "/api/v1/treatments/",
            json={"document_set": document_set.id, "task": "regions"},
            headers=headers,
        )
    )
    run_jobs()
    treatment = db.session.get(Treatment, created["id"])
    assert treatment is not None
    items = [
        {
            "doc_id": uid,
            "result_url": processing_api.serve(f"/r{n}.json", regions_file(uid, boxes=3)),
        }
        for n, uid in enumerate(treatment.document_uids)
    ]
    notify(client, treatment, "SUCCESS", output={"results_url": items})
    run_jobs()
    page = json_body(
        client.get(f"/api/v1/treatments/{treatment.id}/results?per_page=4", headers=headers)
    )
    assert (page["total"], len(page["items"])) == (6, 4)
    first = page["items"][0]
    assert first["crop_id"].endswith("_10,20,40,30")
    assert first["image_url"].startswith("http://localhost/iiif/image/")
    assert first["correction"] is None
    rest = json_body(
        client.get(f"/api/v1/treatments/{treatment.id}/results?per_page=4&page=2", headers=headers)
    )
    assert len(rest["items"]) == 2
    csv_url = page["exports"]["csv"].removeprefix("http://localhost")
    exported = client.get(csv_url, headers=headers)
    assert exported.mimetype == "text/csv"
    assert exported.get_data(as_text=True).count("\n") == 7
    assert (
        client.get(f"/api/v1/treatments/{treatment.id}/exports/zip", headers=headers).status_code
        == 404
    )


def test_a_session_writes_only_with_its_csrf_token_and_a_token_needs_none(
    app: Flask, client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/api/v1/document-sets/", json={"title": "Forged"})
    assert refused.status_code == 400
    assert "CSRF" in json_body(refused)["message"]
    page = client.get("/sets/").get_data(as_text=True)
    csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
    made = client.post(
        "/api/v1/document-sets/", json={"title": "Mine"}, headers={"X-CSRFToken": csrf}
    )
    assert made.status_code == 201
    token = _token(app, logged_in)
    client.post("/logout", data={"csrf_token": csrf})
    scripted = client.post(
        "/api/v1/document-sets/", json={"title": "Scripted"}, headers=_bearer(token)
    )
    assert scripted.status_code == 201


def test_listings_cost_the_same_queries_for_one_row_or_many(
    client: FlaskClient, app: Flask, other_user: User
) -> None:
    """No query per row: the sets' members, shares and counts, the treatments' owners."""
    admin = make_user("root@example.org", admin=True)
    headers = _bearer(_token(app, admin))

    def add_rows() -> None:
        owner = make_user(f"u{db.session.scalar(select(func.count(User.id)))}@example.org")
        document_set = make_set(owner)
        document_set.shared_with = [other_user]
        db.session.add(Treatment(task_type="regions", owner_id=owner.id, documents=[]))
        db.session.commit()

    def sent(url: str) -> int:
        db.session.expunge_all()
        with count_queries() as statements:
            assert client.get(url, headers=headers).status_code == 200
        return len(statements)

    add_rows()
    client.get("/api/v1/treatments/", headers=headers)  # its first use is recorded once
    one = {url: sent(url) for url in ("/api/v1/document-sets/", "/api/v1/treatments/")}
    for _ in range(3):
        add_rows()
    many = {url: sent(url) for url in one}
    assert many == one
    assert json_body(client.get("/api/v1/treatments/", headers=headers))["total"] == 4
    listed = json_body(client.get("/api/v1/document-sets/", headers=headers))
    assert [s["digitizations"] for s in listed] == [2, 2, 2, 2]
