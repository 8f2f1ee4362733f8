"""The penetration test's attacks, replayed on real servers: a loopback listener sees whether
any request of the web app or the processor reaches what it must not."""

from __future__ import annotations

import json

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from tests.conftest import PASSWORD, run_jobs
from tests.factories import make_witness
from tests.listener import Listener
from tests.processing_api import ProcessingAPI, notify
from tests.processor_harness import Processor
from tests.test_imports import manifest_v2
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page
from webapp.extensions import db
from webapp.task_modules.regions.models import RegionSet

INTERNAL_FORMS = [
    "http://127.0.0.1:{port}/m.json",
    "http://localhost:{port}/m.json",
    "http://127.1:{port}/m.json",
    "http://2130706433:{port}/m.json",
    "http://0x7f.1:{port}/m.json",
    "http://0.0.0.0:{port}/m.json",
    "http://[::1]:{port}/m.json",
    "http://[::ffff:127.0.0.1]:{port}/m.json",
]


def _import(client: FlaskClient, witness_id: int, url: str) -> str:
    response = client.post(f"/catalog/witnesses/{witness_id}/import", data={"manifest_url": url})
    assert response.status_code in (302, 400), response.status_code
    return response.get_data(as_text=True)


def test_manifest_import_reaches_no_internal_address(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "ALLOWED_PRIVATE_HOSTS", [])
    witness = make_witness(logged_in)
    listener.redirect("/hop", f"{listener.url}/m.json")
    urls = [form.format(port=listener.port) for form in INTERNAL_FORMS]
    pages = [_import(client, witness.id, url) for url in urls]
    assert listener.hits == []
    assert all("only public http(s) addresses" in page for page in pages)
    assert db.session.scalar(select(Digitization)) is None


def test_a_redirect_from_a_public_manifest_to_an_internal_one_is_refused(
    client: FlaskClient, logged_in: User, listener: Listener, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/moved.json").respond_with_data(
        "", status=302, headers={"Location": f"{listener.url}/m.json"}
    )
    page = _import(client, make_witness(logged_in).id, httpserver.url_for("/moved.json"))
    assert "only public http(s) addresses" in page
    assert listener.hits == []


def test_an_internal_image_named_in_a_manifest_is_neither_copied_nor_served(
    client: FlaskClient, logged_in: User, listener: Listener, httpserver: HTTPServer
) -> None:
    manifest = manifest_v2(listener.url, [(300, 200)])
    httpserver.expect_request("/m.json").respond_with_json(manifest)
    _import(client, make_witness(logged_in).id, httpserver.url_for("/m.json"))
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.status == "ERROR"
    assert db.session.scalar(select(Page)) is None
    assert listener.hits == []


def test_refusals_quote_nothing_of_what_answered(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/secret.json").respond_with_json(
        {"type": "INTERNAL-SECRET-VALUE-42"}
    )
    page = _import(client, make_witness(logged_in).id, httpserver.url_for("/secret.json"))
    assert "not a IIIF manifest" in page
    assert "INTERNAL-SECRET-VALUE-42" not in page


@pytest.mark.parametrize("case", ["other port", "redirect"])
def test_result_downloads_keep_to_result_hosts_and_ports(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listener: Listener,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    # The listener is a private host the app may reach, but not a result host.
    monkeypatch.setitem(app.config, "ALLOWED_PRIVATE_HOSTS", ["localhost", listener.url[7:]])
    monkeypatch.setitem(app.config, "RESULT_HOSTS", [f"localhost:{httpserver.port}"])
    treatment = launch(client, make_set(logged_in))
    if case == "other port":
        url = f"http://localhost:{listener.port}/result.json"
    else:
        httpserver.expect_request("/result.json").respond_with_data(
            "", status=302, headers={"Location": f"{listener.url}/result.json"}
        )
        url = httpserver.url_for("/result.json")
    uid = treatment.documents[0]["uid"]
    notify(
        client, treatment, "SUCCESS", output={"results_url": [{"doc_id": uid, "result_url": url}]}
    )
    run_jobs()
    db.session.expire_all()
    assert "is not fetched" in treatment.document_errors[0]
    assert listener.hits == []


def test_the_processor_fetches_and_notifies_no_internal_address(
    processor: Processor, listener: Listener
) -> None:
    """A caller names an internal source and an internal notify URL: neither is reached."""
    documents = [
        {"type": "iiif", "src": f"{listener.url}/manifest.json", "uid": "a"},
        {"type": "url_list", "src": f"http://2130706433:{listener.port}/list.json", "uid": "b"},
    ]
    processor.started("regions", documents, notify_url=f"{listener.url}/hook")
    processor.run_jobs()
    processor.deliver()
    assert listener.hits == []
    listing = processor.serve("/list.json", {"x": f"{listener.url}/image.jpg"})
    processor.started("regions", [{"type": "url_list", "src": listing, "uid": "c"}])
    processor.run_jobs()
    processor.deliver()
    assert listener.hits == []
    ended = processor.received[-1][1]
    assert json.dumps(ended).count("only public http(s) addresses") >= 1


PROCESSOR_ROUTES = [
    ("POST", "/regions/start"),
    ("GET", "/regions/models"),
    ("GET", "/regions/monitor"),
    ("GET", "/regions/abc/status"),
    ("POST", "/regions/abc/cancel"),
    ("GET", "/results/abc/results.json"),
]


def test_the_processor_answers_401_without_its_token(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(processor.app.config, "API_TOKEN", "the-token")
    for wrong in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "the-token"}):
        for method, path in PROCESSOR_ROUTES:
            response = processor.client.open(path, method=method, headers=wrong, json={})
            assert response.status_code == 401, (path, wrong)
            assert "token" in response.get_json()["error"]
    assert processor.client.get("/healthz").status_code == 200
    right = {"Authorization": "Bearer the-token"}
    assert processor.client.get("/regions/models", headers=right).status_code == 200
    assert processor.client.post("/regions/abc/cancel", headers=right).status_code == 404


def test_without_a_token_the_processor_serves_loopback_only(processor: Processor) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    response = processor.client.get("/regions/models", environ_base=outside)
    assert response.status_code == 401
    assert processor.client.get("/regions/models").status_code == 200
    assert processor.client.get("/healthz", environ_base=outside).status_code == 200


def test_without_a_token_the_processor_refuses_to_listen_beyond_loopback(
    processor_app: Flask,
) -> None:
    from processor.app import create_app

    with pytest.raises(RuntimeError, match="without API_TOKEN"):
        create_app({**processor_app.config, "LISTEN_HOST": "0.0.0.0", "API_TOKEN": ""})  # noqa: S104
    create_app({**processor_app.config, "LISTEN_HOST": "0.0.0.0", "API_TOKEN": "t"})  # noqa: S104


def test_the_web_app_sends_its_token_on_every_request_to_the_api(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "API_TOKEN", "web-token")
    treatment = launch(client, make_set(logged_in))
    uid = treatment.documents[0]["uid"]
    url = processing_api.serve("/results/trk-1/r.json", {"a": []})
    results = [{"doc_id": uid, "result_url": url}]
    notify(client, treatment, "SUCCESS", output={"results_url": results})
    run_jobs()
    client.post(f"/treatments/{treatment.id}/relaunch")
    assert httpserver.log
    for request, _ in httpserver.log:
        if request.path != "/notify":
            assert request.headers.get("Authorization") == "Bearer web-token", request.path


def test_anonymous_enumeration_of_region_refs_finds_nothing(
    client: FlaskClient, logged_in: User
) -> None:
    from tests.test_viewers import _regions

    sets = [make_set(logged_in) for _ in range(2)]
    for document_set in sets:
        _regions(logged_in, document_set)
    refs = [rs.ref for rs in db.session.scalars(select(RegionSet))]
    assert refs
    client.post("/logout")
    found = 0
    attempts = 0
    for ref in refs:
        for path in ("list", "manifest.json", "annotations/1.json"):
            attempts += 1
            found += client.get(f"/regions/{ref}/{path}").status_code == 200
    assert attempts >= 12
    assert found == 0


def _stolen(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding copies of this one's session and remember cookies."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def _remembered_only(app: Flask, client: FlaskClient) -> FlaskClient:
    thief = app.test_client()
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    thief.set_cookie("remember_token", cookie.value)
    return thief


def _logged_in(browser: FlaskClient) -> bool:
    # The test's app context, and so `g`, outlives each request: a real request starts with
    # no user loaded, and loads it from its own cookies.
    g.pop("_login_user", None)
    return browser.get("/sets/").status_code == 200


@pytest.mark.parametrize("ending", ["logout", "password change", "admin reset"])
def test_old_session_and_remember_cookies_stop_working(
    app: Flask, client: FlaskClient, user: User, admin: User, ending: str
) -> None:
    login = {"email": user.email, "password": PASSWORD, "remember": "y"}
    assert client.post("/login", data=login).status_code == 302
    thief, remembered = _stolen(app, client), _remembered_only(app, client)
    assert _logged_in(thief)
    assert _logged_in(remembered)
    if ending == "logout":
        client.post("/logout")
    elif ending == "password change":
        form = {"current": PASSWORD, "new": "another long one", "confirm": "another long one"}
        assert client.post("/account/password", data=form).status_code == 302
        assert _logged_in(client)  # the session that changed it goes on
    else:
        admin_browser = app.test_client()
        g.pop("_login_user", None)
        admin_browser.post("/login", data={"email": admin.email, "password": PASSWORD})
        reset = admin_browser.post(f"/admin/users/{user.id}/reset-password")
        assert reset.status_code == 302
    assert not _logged_in(thief)
    assert not _logged_in(remembered)
