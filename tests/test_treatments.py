"""Treatments end to end: the form, the launch, notifications, results, the end and its email."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import AuthActions, Mailbox, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.provision import free_port
from tests.treatment_helpers import launch, make_set, regions_file
from webapp.auth.models import User
from webapp.extensions import db
from webapp.task_modules.regions.models import Region, RegionSet
from webapp.treatments.completion import CompletionEmail
from webapp.treatments.launch import launch_treatment
from webapp.treatments.models import Treatment


def _regions(treatment: Treatment) -> int:
    return (
        db.session.scalar(
            select(func.count(Region.id))
            .join(RegionSet)
            .where(RegionSet.treatment_id == treatment.id)
        )
        or 0
    )


def test_the_form_swaps_subforms_and_prefills_from_the_query(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in)
    page = client.get(f"/treatments/new?document_set={document_set.id}&task_type=similarity")
    text = page.get_data(as_text=True)
    assert f'<option selected value="{document_set.id}">' in text
    assert 'name="similarity-topk"' in text
    assert 'hx-get="/treatments/subform"' in text
    fragment = client.get("/treatments/subform?task_type=regions").get_data(as_text=True)
    assert 'name="regions-model"' in fragment
    assert "A fancy model" in fragment  # the API's models
    assert "<html" not in fragment
    assert client.get("/treatments/subform?task_type=nothing").status_code == 404
    # Without JavaScript, a button shows the chosen task's options.
    reloaded = client.post(
        "/treatments/new",
        data={
            "document_set": str(document_set.id),
            "task_type": "vectorization",
            "change_task": "1",
        },
    )
    assert 'name="vectorization-model"' in reloaded.get_data(as_text=True)


def test_models_fall_back_when_the_api_is_down(
    app: Flask, client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "API_URL", f"http://127.0.0.1:{free_port()}/dead")
    fragment = client.get("/treatments/subform?task_type=regions").get_data(as_text=True)
    assert "Illustrations and diagrams (default)" in fragment


def test_regions_success_path(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    document_set = make_set(logged_in)
    treatment = launch(client, document_set, "regions", model="fancy")
    assert treatment.status == "STARTED"
    assert treatment.tracking_id == "trk-1"
    (sent,) = processing_api.starts
    assert sent["experiment_id"] == treatment.id
    assert sent["model"] == "fancy"
    assert sent["notify_url"].startswith("http://localhost/regions/notify?token=")
    uids = [d["uid"] for d in sent["documents"]]
    assert len(uids) == 2
    assert sent["documents"][0]["type"] == "iiif"
    assert sent["documents"][0]["src"] == f"http://localhost/iiif/{uids[0]}/manifest.json"

    assert notify(client, treatment, "STARTED").status_code == 200
    first = processing_api.serve("/results/1.json", regions_file(uids[0], boxes=2))
    response = notify(
        client,
        treatment,
        "PROGRESS",
        progress={"current": 1, "total": 2},
        output={"results_url": [{"doc_id": uids[0], "result_url": first}]},
    )
    assert response.status_code == 200
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "IN_PROGRESS"
    assert (treatment.units_done, treatment.api_current, treatment.api_total) == (1, 1, 2)
    assert _regions(treatment) == 2

    second = processing_api.serve("/results/2.json", regions_file(uids[1], boxes=3, page=2))
    notify(
        client,
        treatment,
        "SUCCESS",
        success=True,
        output={
            "results_url": [
                {"doc_id": uids[0], "result_url": first},
                {"doc_id": uids[1], "result_url": second},
            ]
        },
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    assert treatment.finished_at is not None
    assert _regions(treatment) == 5
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "5</strong> regions found" in page
    assert "2 of 2 documents done" in page
    (email,) = mailbox.messages
    assert email["To"] == logged_in.email
    assert "Succeeded" in email["Subject"]
    assert f"http://localhost/treatments/{treatment.id}" in mailbox.body()


def test_the_launch_payload_carries_defaults_merged_with_the_form(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    launch(client, make_set(logged_in), "regions")
    assert processing_api.starts[0]["model"] == "illustration_extraction"


def test_a_set_without_pages_cannot_be_launched(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in, digitizations=0)
    response = client.post(
        "/treatments/new", data={"document_set": str(document_set.id), "task_type": "regions"}
    )
    assert response.status_code == 400
    assert "no digitized pages" in response.get_data(as_text=True)
    assert db.session.scalar(select(Treatment)) is None


def test_bad_form_input_is_refused(
    client: FlaskClient, logged_in: User, other_user: User, processing_api: ProcessingAPI
) -> None:
    mine = make_set(logged_in)
    theirs = make_set(other_user)
    for data in [
        {"document_set": str(theirs.id), "task_type": "regions"},
        {"document_set": str(mine.id), "task_type": "regions", "regions-model": "no-such-model"},
        {"document_set": str(mine.id), "task_type": "similarity", "similarity-topk": "0"},
        {"document_set": "abc", "task_type": "regions"},
    ]:
        response = client.post("/treatments/new", data=data)
        assert response.status_code == 400, data
    response = client.post(
        "/treatments/new",
        data={"document_set": str(mine.id), "task_type": "similarity", "similarity-topk": "500"},
    )
    assert "Number must be between 1 and 100" in response.get_data(as_text=True)
    assert db.session.scalar(select(Treatment)) is None


def test_partial_errors_end_in_success_with_the_errors_listed(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    uids = [d["uid"] for d in treatment.documents]
    url = processing_api.serve("/r.json", regions_file(uids[0]))
    notify(client, treatment, "ERROR", error="[ValueError] Image 3 unreadable", completed=False)
    notify(
        client,
        treatment,
        "SUCCESS",
        output={
            "results_url": [{"doc_id": uids[0], "result_url": url}],
            "error": [f"{uids[1]}: could not download the manifest"],
        },
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "SUCCESS"
    assert treatment.document_errors == [
        "[ValueError] Image 3 unreadable",
        f"{uids[1]}: could not download the manifest",
    ]
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "Image 3 unreadable" in page
    assert "could not download the manifest" in mailbox.body()


def test_every_document_failing_is_an_error_with_its_text(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(
        client,
        treatment,
        "SUCCESS",
        output={"results_url": [], "error": ["wit1: the job was cancelled"]},
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "ERROR"
    assert "the job was cancelled" in treatment.error


def test_the_apis_error_text_reaches_the_page_and_the_email(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error="[RuntimeError] CUDA out of memory", completed=True)
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "ERROR"
    assert treatment.error == "[RuntimeError] CUDA out of memory"
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "CUDA out of memory" in page
    assert "None" not in page
    (email,) = mailbox.messages
    assert "Failed" in email["Subject"]
    assert "CUDA out of memory" in mailbox.body(kind="html")


def test_an_error_without_text_says_so(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error=None)
    run_jobs()
    db.session.expire_all()
    assert treatment.error == "The processing API reported an error without saying which."


def test_a_result_url_on_another_host_is_refused(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    uid = treatment.documents[0]["uid"]
    notify(
        client,
        treatment,
        "SUCCESS",
        output={
            "results_url": [
                {"doc_id": uid, "result_url": "http://169.254.169.254/latest/meta-data"}
            ]
        },
    )
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "ERROR"
    assert "169.254.169.254" in treatment.document_errors[0]
    assert "is not fetched" in treatment.document_errors[0]


def test_api_down_at_launch_retries_then_errors_and_emails(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "API_URL", f"http://127.0.0.1:{free_port()}")
    treatment = launch(client, make_set(logged_in))
    assert treatment.status == "ERROR"
    assert treatment.attempts == 2
    assert "cannot be reached" in treatment.error
    assert "Gave up after 3 attempts" in treatment.error
    run_jobs()
    assert "cannot be reached" in mailbox.body()


def test_a_start_refused_with_http_200_shows_the_apis_error(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    processing_api.start_answer = (200, {"error": "No such model: fancy", "traceback": "…"})
    treatment = launch(client, make_set(logged_in))
    assert treatment.status == "ERROR"
    assert treatment.error == "No such model: fancy"
    assert treatment.attempts == 0


def test_a_double_launch_is_prevented(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    launch_treatment(treatment.id)
    launch_treatment(treatment.id)
    assert len(processing_api.starts) == 1


def test_cancel_stops_the_work_at_the_api(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    response = client.post(f"/treatments/{treatment.id}/cancel")
    assert response.status_code == 302
    assert processing_api.cancels == ["/regions/trk-1/cancel"]
    db.session.expire_all()
    assert treatment.status == "CANCELLED"
    assert "Cancelled by Ada" in treatment.message
    # A late notification never moves it back.
    notify(client, treatment, "PROGRESS", progress={"current": 1, "total": 2})
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "CANCELLED"


def test_a_refused_cancel_tells_the_user_and_changes_nothing(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    processing_api.cancel_status = 409
    response = client.post(f"/treatments/{treatment.id}/cancel", follow_redirects=True)
    assert "did not cancel the treatment" in response.get_data(as_text=True)
    assert "Too late" in response.get_data(as_text=True)
    db.session.expire_all()
    assert treatment.status == "STARTED"


def test_relaunch_keeps_parameters_and_documents(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    original = launch(client, make_set(logged_in), "regions", model="fancy")
    notify(client, original, "ERROR", error="boom")
    run_jobs()
    response = client.post(f"/treatments/{original.id}/relaunch")
    assert response.status_code == 302
    run_jobs()
    db.session.expire_all()
    again = db.session.scalar(select(Treatment).where(Treatment.relaunch_of_id == original.id))
    assert again is not None
    assert again.id != original.id
    assert again.status == "STARTED"
    assert again.parameters == original.parameters
    assert again.documents == original.documents
    assert processing_api.starts[1]["model"] == "fancy"
    assert processing_api.starts[1]["documents"] == processing_api.starts[0]["documents"]
    # Late news of the old run never touches the new one.
    notify(client, original, "SUCCESS", output={"results_url": []})
    run_jobs()
    db.session.expire_all()
    assert again.status == "STARTED"


def test_another_user_gets_404_on_a_treatment(
    client: FlaskClient,
    auth: AuthActions,
    user: User,
    other_user: User,
    processing_api: ProcessingAPI,
) -> None:
    auth.login(user)
    treatment = launch(client, make_set(user))
    auth.logout()
    auth.login(other_user)
    assert client.get(f"/treatments/{treatment.id}").status_code == 404
    assert client.post(f"/treatments/{treatment.id}/cancel").status_code == 404
    assert client.post(f"/treatments/{treatment.id}/relaunch").status_code == 404
    assert treatment.id not in client.get("/treatments/").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Treatment.id))) == 1


def test_the_list_filters_by_status_and_task(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in))
    assert treatment.id in client.get("/treatments/").get_data(as_text=True)
    assert treatment.id in client.get("/treatments/?status=STARTED&task=regions").get_data(
        as_text=True
    )
    assert treatment.id not in client.get("/treatments/?status=ERROR").get_data(as_text=True)
    assert client.get("/treatments/?status=bogus&page=x").status_code == 200


def test_a_mail_failure_is_logged_kept_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(app.extensions["mail"], "port", free_port())  # no SMTP server there
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error="boom")
    run_jobs()
    db.session.expire_all()
    assert treatment.status == "ERROR"
    assert treatment.error == "boom"
    assert mailbox.messages == []
    assert "not sent (attempt 1)" in caplog.text
    email = db.session.scalar(select(CompletionEmail))
    assert email is not None
    assert email.sent_at is None
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error


def test_one_email_however_often_the_end_is_reported(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in))
    notify(client, treatment, "ERROR", error="first")
    notify(client, treatment, "ERROR", error="second")
    notify(client, treatment, "SUCCESS", output={"results_url": []})
    run_jobs()
    assert len(mailbox.messages) == 1


def test_no_email_unless_asked(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI, mailbox: Mailbox
) -> None:
    treatment = launch(client, make_set(logged_in), notify_email=False)
    notify(client, treatment, "ERROR", error="boom")
    run_jobs()
    assert mailbox.messages == []


def test_document_sets_link_to_launching_a_treatment_on_them(
    client: FlaskClient, logged_in: User
) -> None:
    document_set = make_set(logged_in)
    page = client.get(f"/sets/{document_set.id}").get_data(as_text=True)
    assert f"/treatments/new?document_set={document_set.id}&amp;task_type=regions" in page


def test_an_owner_deletes_an_ended_treatment_from_its_page(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    treatment = launch(client, make_set(logged_in), notify_email=False)
    running = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f"/treatments/{treatment.id}/delete" not in running
    refused = client.post(f"/treatments/{treatment.id}/delete", follow_redirects=True)
    assert "Cancel it first" in refused.get_data(as_text=True)
    notify(client, treatment, "SUCCESS", output={"results_url": []})
    run_jobs()
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert f'action="/treatments/{treatment.id}/delete"' in page
    assert client.post(f"/treatments/{treatment.id}/delete").status_code == 302
    assert client.get(f"/treatments/{treatment.id}").status_code == 404
