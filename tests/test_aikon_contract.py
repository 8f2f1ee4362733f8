"""What AIKON's real processing API sends reaches people readable and complete (DESIGN 6)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import AuthActions, Mailbox, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import launch, make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.readable import readable_error

TRACEBACK = """Traceback (most recent call last):
  File "/home/aikon/api/app/vectorization/lib.py", line 88, in process
    svg = model(image)
  File "/home/aikon/venv/lib/python3.10/site-packages/torch/nn/modules/module.py", line 1501
    return forward_call(*args)
RuntimeError: could not read /data/aikon/{uid}/0002.jpg: truncated"""


def test_a_traceback_reads_as_one_line_without_paths() -> None:
    raw = TRACEBACK.format(uid="wit1_img1")
    assert readable_error(raw) == "[RuntimeError] could not read 0002.jpg: truncated"
    assert readable_error("[ValueError] bad box") == "[ValueError] bad box"
    assert readable_error(42) == "42"
    assert readable_error(None) == ""
    assert "https://api.example/r/1" in readable_error("see https://api.example/r/1")


def test_a_fatal_traceback_shows_one_line_on_the_page_and_in_the_email(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    raw = TRACEBACK.format(uid=treatment.documents[0]["uid"])
    notify(client, treatment, "ERROR", error=raw, completed=True)
    run_jobs()
    db.session.expire_all()
    assert treatment.error == "[RuntimeError] could not read 0002.jpg: truncated"
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    for text in (page, mailbox.body(), mailbox.body(kind="html")):
        assert "could not read 0002.jpg" in text
        assert "site-packages" not in text
        assert "Traceback" not in text
    (event,) = [e for e in treatment.events if e.kind == "notification"]
    assert event.payload["error"] == raw  # the full text is kept in the history


def test_administrators_see_the_apis_full_text_in_the_history(
    client: FlaskClient,
    logged_in: User,
    admin: User,
    auth: AuthActions,
    processing_api: ProcessingAPI,
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error=TRACEBACK.format(uid="x"), completed=True)
    run_jobs()
    assert "site-packages" not in client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    auth.logout()
    auth.login(admin)
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "The API's full text" in page
    assert "site-packages/torch" in page


def test_a_document_error_that_is_a_bare_traceback_names_its_document(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    uid = treatment.documents[1]["uid"]
    notify(client, treatment, "ERROR", error=TRACEBACK.format(uid=uid), completed=False)
    run_jobs()
    db.session.expire_all()
    assert treatment.document_errors == [
        f"{uid}: [RuntimeError] could not read 0002.jpg: truncated"
    ]


def test_a_page_the_api_could_not_read_is_that_pages_error(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in, digitizations=1))
    uid = treatment.documents[0]["uid"]
    entries = [
        *regions_file(uid, boxes=2),
        {"doc_uid": uid},
        {"doc_uid": uid, "source": "0002.jpg"},
    ]
    url = processing_api.serve("/r.json", entries)
    notify(
        client, treatment, "SUCCESS", output={"results_url": [{"doc_id": uid, "result_url": url}]}
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    assert treatment.document_errors == [
        f"{uid}: the page of entry 2 could not be read by the processing API; it has no regions.",
        f"{uid}: page 2 could not be read by the processing API; it has no regions.",
    ]
