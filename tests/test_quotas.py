"""Quotas set by administrators: pages a month (enforced at every launch) and storage (at
uploads and imports), shown on the account page with a task report."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update

from tests.concurrency import race
from tests.conftest import AuthActions, json_body, run_jobs
from tests.factories import image_bytes, make_digitization, make_witness, quadrant_image
from tests.processing_api import ProcessingAPI
from tests.test_api import _bearer, _token
from tests.test_imports import _serve_v2
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page
from webapp.columns import utcnow
from webapp.document_sets.models import DocumentSet
from webapp.errors import QuotaExceeded
from webapp.extensions import db
from webapp.quotas.pages import month_start, pages_used
from webapp.quotas.storage import storage_used
from webapp.task_modules.registry import task_module
from webapp.treatments.models import Treatment
from webapp.treatments.service import create_treatment
from webapp.workflows.definitions import FULL_ANALYSIS


def _quota(user: User, pages: int | None = None, storage_mb: int | None = None) -> None:
    user.page_quota = pages
    user.storage_quota_mb = storage_mb
    db.session.commit()


def _new(client: FlaskClient, document_set_id: int) -> Any:
    return client.post(
        "/treatments/new", data={"document_set": str(document_set_id), "task_type": "regions"}
    )


def test_a_launch_past_the_page_quota_is_refused_and_says_what_is_left(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in, digitizations=2, pages=2)  # 4 pages a launch
    _quota(logged_in, pages=6)
    first = launch(client, document_set)
    assert first.pages == 4
    refused = _new(client, document_set.id)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "This would process 4 pages, and your quota is 6 pages a month" in page
    assert "4 are used this month, 2 are left" in page
    assert 'name="document_set"' in page  # the form is still there, filled in
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 1
    # A relaunch takes from the same quota.
    db.session.execute(update(Treatment).values(status="SUCCESS", finished_at=utcnow()))
    db.session.commit()
    refused = client.post(f"/treatments/{first.id}/relaunch", follow_redirects=True)
    assert "your quota is 6 pages a month" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 1


def test_the_api_refuses_past_the_page_quota_with_its_error_shape(
    app: Flask, client: FlaskClient, user: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(user, digitizations=1, pages=3)
    _quota(user, pages=2)
    response = client.post(
        "/api/v1/treatments/",
        json={"document_set": document_set.id, "task": "regions"},
        headers=_bearer(_token(app, user)),
    )
    assert response.status_code == 403
    assert "your quota is 2 pages a month" in json_body(response)["message"]


def test_what_never_ran_and_last_month_do_not_count(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in, digitizations=1, pages=3)
    processing_api.start_answer = (200, {"error": "No such model", "traceback": "…"})
    refused = launch(client, document_set)
    assert refused.status == "ERROR"
    assert pages_used(logged_in.id) == 0
    processing_api.start_answer = None
    ran = launch(client, document_set)
    assert pages_used(logged_in.id) == 3
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == ran.id)
        .values(requested_at=month_start() - timedelta(days=3))
    )
    db.session.commit()
    assert pages_used(logged_in.id) == 0


def test_a_workflow_takes_its_pages_once_per_step(
    client: FlaskClient, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in, digitizations=1, pages=2)
    _quota(logged_in, pages=5)  # Full analysis: three steps of 2 pages
    response = client.post(
        "/workflows/", data={"definition": FULL_ANALYSIS, "document_set": str(document_set.id)}
    )
    assert "This would process 6 pages" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 0


def _upload(client: FlaskClient, witness_id: int, count: int = 1) -> Any:
    images = [
        (io.BytesIO(image_bytes(quadrant_image(400, 300), "PNG")), f"f{i}.png")
        for i in range(count)
    ]
    return client.post(
        f"/catalog/witnesses/{witness_id}/upload",
        data={"images": images, "label": "Scans"},
        content_type="multipart/form-data",
    )


def test_an_upload_past_the_storage_quota_is_refused_and_keeps_nothing(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    witness = make_witness(logged_in, "MS Quota")
    _quota(logged_in, storage_mb=1)
    assert _upload(client, witness.id).status_code == 302
    run_jobs()
    used = storage_used(logged_in.id)
    assert used > 0
    assert db.session.scalar(select(func.count()).where(Page.bytes.is_(None))) == 0
    db.session.execute(update(Page).values(bytes=999_000))  # nearly full
    db.session.commit()
    response = _upload(client, witness.id, count=2)
    assert response.status_code == 400
    said = response.get_data(as_text=True)
    assert "Your storage quota is 1 MB and you use 1.0 MB" in said
    assert "Delete digitizations you no longer need" in said
    assert db.session.scalar(select(func.count()).select_from(Digitization)) == 1
    assert not list((Path(app.config["STORAGE_DIR"]) / "incoming").glob("*/*"))


def test_a_manifest_import_stops_where_the_storage_quota_is_used_up(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    url = _serve_v2(httpserver, 3)
    witness = make_witness(logged_in, "MS Imported")
    _quota(logged_in, storage_mb=0)
    refused = client.post(
        f"/catalog/witnesses/{witness.id}/import",
        data={"manifest_url": url},
        follow_redirects=True,
    )
    assert "Your storage quota of 0 MB is used up" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Digitization)) == 0


def test_admins_set_quotas_and_users_see_their_usage_and_report(
    client: FlaskClient,
    auth: AuthActions,
    admin: User,
    user: User,
    processing_api: ProcessingAPI,
) -> None:
    auth.login(admin)
    bad = client.post(f"/admin/users/{user.id}", data={"page_quota": "-3"})
    assert bad.status_code == 400
    assert "A whole number from 0." in bad.get_data(as_text=True)
    bad = client.post(f"/admin/users/{user.id}", data={"page_quota": "many"})
    assert bad.status_code == 400
    saved = client.post(
        f"/admin/users/{user.id}", data={"page_quota": "100", "storage_quota_mb": ""}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert user.page_quota == 100
    assert user.storage_quota_mb is None
    assert "100" in client.get("/admin/users").get_data(as_text=True)
    client.post("/logout")
    auth.login(user)
    treatment = launch(client, make_set(user, digitizations=1, pages=3))
    db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id)
        .values(
            status="SUCCESS",
            started_at=utcnow() - timedelta(minutes=2),
            finished_at=utcnow() - timedelta(minutes=1),
        )
    )
    db.session.commit()
    page = client.get("/account/password").get_data(as_text=True)
    assert "3 of 100 (97 left)" in page
    assert "MB (no quota)" in page
    assert 'id="task-report"' in page
    report = page[page.index('id="task-report"') :]
    assert utcnow().strftime("%Y-%m") in report
    assert "about 1 min" in report


@pytest.mark.parametrize("field", ["page_quota", "storage_quota_mb"])
def test_a_huge_quota_is_refused_with_its_limit(
    client: FlaskClient, auth: AuthActions, admin: User, user: User, field: str
) -> None:
    auth.login(admin)
    response = client.post(f"/admin/users/{user.id}", data={field: "1" + "0" * 30})
    assert response.status_code == 400
    db.session.expire_all()
    assert getattr(user, field) is None


def test_a_manifest_import_stops_copying_once_the_quota_is_used_up(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    url = _serve_v2(httpserver, 3)
    witness = make_witness(logged_in, "MS Imported")
    held = make_witness(logged_in, "MS Held")
    _quota(logged_in, storage_mb=1)
    make_digitization(held, pages=1, creator=logged_in)
    db.session.execute(update(Page).values(bytes=999_999))  # one byte left
    db.session.commit()
    response = client.post(f"/catalog/witnesses/{witness.id}/import", data={"manifest_url": url})
    assert response.status_code == 302
    run_jobs()
    digitization = db.session.scalar(
        select(Digitization).where(Digitization.witness_id == witness.id)
    )
    assert digitization is not None
    db.session.refresh(digitization)
    assert digitization.pages_done == 1
    assert sorted(digitization.page_errors) == ["2", "3"]
    assert "Your storage quota of 1 MB is used up" in digitization.page_errors["2"]
    assert digitization.status == "SUCCESS"
    assert "1 of 3 images copied, 2 failed." in digitization.message


def test_launches_racing_never_pass_the_page_quota_together(
    app: Flask, logged_in: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(logged_in, digitizations=2, pages=2)  # 4 pages a launch
    _quota(logged_in, pages=6)
    module = task_module("regions")
    owner_id, set_id = logged_in.id, document_set.id  # each thread has its own session
    refused: list[str] = []

    def launch_one() -> None:
        owner = db.session.get(User, owner_id)
        assert owner is not None
        found = db.session.get(DocumentSet, set_id)
        assert found is not None
        try:
            create_treatment(owner, found, module, {}, notify_email=False)
        except QuotaExceeded as exc:
            refused.append(str(exc))

    race(app, launch_one, launch_one, launch_one)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Treatment)) == 1
    assert len(refused) == 2
    assert all("4 are used this month, 2 are left" in said for said in refused)
