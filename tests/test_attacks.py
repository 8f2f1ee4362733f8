"""The penetration test's attacks, replayed on real servers: a loopback listener sees whether
any request of the web app or the processor reaches what it must not."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from PIL import Image as PILImage
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
from webapp.task_modules.regions.models import Region, RegionSet

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


def test_failed_logins_lock_the_account_not_the_address(
    app: Flask, client: FlaskClient, user: User, other_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100 per minute")
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        wrong = {"email": user.email.upper(), "password": "guess"}
        assert (
            client.post("/login", data=wrong, environ_base={"REMOTE_ADDR": address}).status_code
            == 200
        )
    right = {"email": user.email, "password": PASSWORD}
    locked = client.post("/login", data=right, environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert locked.status_code == 429
    # Another account from the same addresses is not held up.
    g.pop("_login_user", None)
    other = {"email": other_user.email, "password": PASSWORD}
    assert (
        client.post("/login", data=other, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code
        == 302
    )


def test_unknown_and_known_accounts_cost_the_same_password_check(
    app: Flask, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing is not asserted (no timed assertions): the same work is, a password check for
    an unknown account, an inactive one and a known one alike."""
    from werkzeug.security import check_password_hash as real

    import webapp.auth.accounts as accounts

    checks: list[str] = []

    def counted(hashed: str, password: str) -> bool:
        checks.append(hashed.split("$")[0])
        return real(hashed, password)

    monkeypatch.setattr(accounts, "check_password_hash", counted)
    monkeypatch.setattr("webapp.auth.models.check_password_hash", counted)
    accounts.authenticate("nobody@example.org", "guess")
    accounts.authenticate(user.email, "guess")
    user.active = False
    accounts.authenticate(user.email, PASSWORD)
    assert len(checks) == 3
    assert len(set(checks)) == 1  # one method, so one cost


def test_exports_neutralise_spreadsheet_formulas(client: FlaskClient, logged_in: User) -> None:
    from tests.test_viewers import _regions

    treatment = _regions(logged_in, make_set(logged_in))
    labels = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]
    for region, label in zip(db.session.scalars(select(Region)), labels, strict=False):
        region.label = label
    db.session.commit()
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/treatments/{treatment.id}/export/csv").text))
    )
    assert {row["label"] for row in rows} <= {f"'{label}" for label in labels}
    assert all(not row["label"].startswith(("=", "+", "@", "-")) for row in rows)
    assert all(float(row["confidence"]) > 0 for row in rows)  # numbers stay numbers


def test_an_expired_notification_token_opens_nothing(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    from webapp.treatments.signing import notify_token

    treatment = launch(client, make_set(logged_in))
    expired = notify_token(treatment.id, int(time.time()) - 1)
    forged = f"{int(time.time()) + 10**6}.{expired.partition('.')[2]}"
    for token in (expired, forged, "", "9" * 40, "\uff11\uff12.x"):
        response = client.post(
            f"/regions/notify?token={token}",
            json={"event": "SUCCESS", "experiment_id": treatment.id, "tracking_id": "trk-1"},
        )
        assert response.status_code in (401, 403), token
    assert notify(client, treatment, "STARTED").status_code == 200


def test_hsts_under_https_only(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "APP_URL", "https://scriptorium.example")
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_access_log_holds_no_token() -> None:
    from gunicorn.config import Config

    from webapp.access_log import RedactedAccessLog

    logger = RedactedAccessLog(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/regions/notify?token=123.abcdef&x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/regions/notify",
        "QUERY_STRING": "token=123.abcdef&x=1",
        "HTTP_REFERER": "http://a.example/regions/r/list?key=secretkey",
    }

    class Answer:
        status = "200 OK"
        sent = 2
        headers: ClassVar[list[tuple[str, str]]] = []

    headers = [("Authorization", "Bearer api-token")]
    atoms = logger.atoms(Answer(), headers, environ, datetime.timedelta(seconds=1))
    line = json.dumps(atoms)
    for secret in ("abcdef", "secretkey", "api-token"):
        assert secret not in line
    assert atoms["q"] == "token=[redacted]&x=1"


def test_a_pixel_bomb_upload_is_refused_from_its_header(
    client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four 9000 by 9000 PNGs of a few KB each: refused before a pixel is decoded."""
    buffer = io.BytesIO()
    PILImage.new("1", (9000, 9000)).save(buffer, "PNG")
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000
    decoded: list[object] = []
    real_load = PILImage.Image.load

    def counted_load(image: PILImage.Image) -> Any:
        decoded.append(image)
        return real_load(image)

    monkeypatch.setattr(PILImage.Image, "load", counted_load)
    witness = make_witness(logged_in)
    files = [(io.BytesIO(bomb), f"bomb{n}.png") for n in range(4)]
    response = client.post(
        f"/catalog/witnesses/{witness.id}/upload",
        data={"images": files, "label": "bombs"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "too large an image (9000 by 9000 pixels" in response.get_data(as_text=True)
    assert decoded == []
    assert db.session.scalar(select(Digitization)) is None


def test_image_renditions_are_bounded_cached_within_a_bound_and_rate_limited(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import make_digitization

    monkeypatch.setitem(app.config, "IIIF_MAX_SIDE", 300)
    monkeypatch.setitem(app.config, "IIIF_MAX_AREA", 60_000)
    monkeypatch.setitem(app.config, "IIIF_RENDER_RATE_LIMIT", "5 per minute")
    monkeypatch.setitem(app.config, "IIIF_CACHE_MB", 0.02)
    monkeypatch.setitem(app.config, "IIIF_CACHE_CHECK_SECONDS", 0)
    scan = make_digitization(make_witness(user), pages=1, size=(400, 300))
    base = f"/iiif/image/{scan.ref}_0001"
    profile = client.get(f"{base}/info.json").get_json()["profile"][1]
    assert (profile["maxWidth"], profile["maxHeight"], profile["maxArea"]) == (300, 300, 60_000)
    assert client.get(f"{base}/full/400,/0/default.jpg").status_code == 400
    assert client.get(f"{base}/full/full/0/default.jpg").status_code == 400
    with client.get(f"{base}/full/max/0/default.jpg") as response:
        biggest = PILImage.open(io.BytesIO(response.data))
    assert biggest.width * biggest.height <= 60_000
    outside = {"REMOTE_ADDR": "203.0.113.9"}

    def anonymous(region: str) -> int:
        with client.get(f"{base}/{region}/max/0/default.jpg", environ_base=outside) as answer:
            return answer.status_code

    codes = [anonymous(f"0,0,{100 + n},100") for n in range(8)]
    assert codes[:5] == [200] * 5
    assert set(codes[5:]) == {429}
    # A rendition already made costs nothing, and is served past the limit.
    assert anonymous("0,0,100,100") == 200
    cache = list((Path(app.config["STORAGE_DIR"]) / "cache/iiif").rglob("*.jpg"))
    largest = max(path.stat().st_size for path in cache)
    assert sum(path.stat().st_size for path in cache) <= 20_000 + largest


def test_one_account_holds_a_bounded_number_of_live_streams(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "LIVE_STREAMS_PER_USER", 3)
    treatment = launch(client, make_set(logged_in))
    url = f"/treatments/{treatment.id}/stream"
    open_streams = [client.get(url, buffered=False) for _ in range(3)]
    assert [r.status_code for r in open_streams] == [200] * 3
    refused = client.get(url)
    assert refused.status_code == 429
    assert client.get("/login").status_code in (200, 302)
    open_streams.pop().close()
    again = client.get(url, buffered=False)
    assert again.status_code == 200
    for response in [*open_streams, again]:
        response.close()


def test_the_fuzzers_findings_answer_4xx(app: Flask, client: FlaskClient, admin: User) -> None:
    """The requests a fuzzer found answered 5xx, each now a clear 4xx."""
    from tests.factories import make_digitization

    scan = make_digitization(make_witness(admin), pages=1)
    document_set = make_set(admin)
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    deep = '{"a":[' * 50_000 + "1" + "]}" * 50_000
    requests = [
        ("GET", "/sets/2147483648", None),
        ("GET", "/sets/9999999999", None),
        ("GET", f"/sets/{'9' * 30}", None),
        ("GET", "/treatments/?page=99999999999999999999", None),
        # A filter that is no usable day is no filter, as for any other bad filter.
        ("GET", "/admin/treatments?until=9999-12-31", None),
        ("GET", "/catalog/witnesses/?q=a%00b", None),
        ("POST", "/sets/new", {"title": "a\x00b"}),
        ("POST", f"/sets/{document_set.id}/members", {"kind": "witness", "id": "²"}),
        ("POST", f"/sets/{document_set.id}/members", {"kind": "witness", "id": "9" * 40}),
        ("GET", f"/iiif/image/{scan.ref}_0001/full/pct:{'9' * 309}/0/default.jpg", None),
        ("POST", "/regions/notify", deep),
        ("POST", "/sets/new", '["not", "a", "form"]'),
    ]
    for method, path, body in requests:
        g.pop("_login_user", None)
        kwargs: dict[str, Any] = {}
        if isinstance(body, str):
            kwargs = {"data": body, "content_type": "application/json"}
        elif body is not None:
            kwargs = {"data": body}
        with client.open(path, method=method, **kwargs) as response:
            expected: Any = range(400, 500)
            if "until=" in path:
                expected = (200,)
            elif re.search(r"/sets/9|page=9|pct:9", path):
                expected = (400,)  # an overflowing number
            assert response.status_code in expected, (path, response.status_code)


def test_flask_up_opens_the_web_process_only_and_shares_a_token(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.launcher import stack_environment

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "API_TOKEN", "")
    monkeypatch.setitem(app.config, "API_URL", "http://127.0.0.1:5001")
    for name in ("APP_URL", "ALLOWED_PRIVATE_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    env = stack_environment("0.0.0.0", 5000)  # noqa: S104 - the web process opened wide
    assert (env["HOST"], env["PROCESSOR_HOST"]) == ("0.0.0.0", "127.0.0.1")  # noqa: S104
    assert env["ALLOWED_PRIVATE_HOSTS"] == "0.0.0.0:5000,127.0.0.1:5001"
    token = (tmp_path / "api_token").read_text()
    assert len(token) >= 32
    assert env["API_TOKEN"] == token
    assert stack_environment("127.0.0.1", 5000)["API_TOKEN"] == token  # made once
