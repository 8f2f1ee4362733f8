"""Flows through the JSON API and the command line, and a worker killed in the middle of one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update

from tests.conftest import json_body, run_jobs
from tests.factories import make_digitization, make_witness
from tests.flow_helpers import flow_files, serve_manifest, snapshot
from tests.hanging_server import HangingServer
from tests.test_api import _bearer, _token
from webapp.auth.models import User
from webapp.catalog.models import Witness
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.flows.engine import recover_flows
from webapp.flows.models import FlowLock, FlowRecord, Phase

ROOT = Path(__file__).resolve().parent.parent


def test_a_sync_flow_through_the_api(app: Flask, client: FlaskClient, user: User) -> None:
    headers = _bearer(_token(app, user))
    witness = make_witness(user, "By the API")
    make_digitization(witness, pages=1, creator=user)
    response = client.post(
        "/api/v1/flows/",
        json={"flow": "delete_witness", "data": {"witness": witness.id}},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = json_body(response)
    assert body["phase"] == "done"
    assert body["result"]["deleted"] == {"witness": witness.id}
    assert body["label"] == "Delete a witness"
    assert body["task"] is None
    assert db.session.get(Witness, witness.id) is None
    listed = json_body(client.get("/api/v1/flows/?phase=done", headers=headers))
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert json_body(client.get(f"/api/v1/flows/{body['id'].upper()}", headers=headers))["id"]


def test_an_async_flow_through_the_api_is_a_task(
    app: Flask, client: FlaskClient, user: User, httpserver: HTTPServer
) -> None:
    headers = _bearer(_token(app, user))
    response = client.post(
        "/api/v1/flows/",
        json={
            "flow": "import_witness",
            "mode": "async",
            "data": {"manifest_url": serve_manifest(httpserver, pages=1)},
        },
        headers=headers,
    )
    assert response.status_code == 202
    body = json_body(response)
    assert body["task"]
    assert body["task_url"].endswith(f"/api/v1/tasks/{body['task']}")
    run_jobs()
    task = json_body(client.get(f"/api/v1/tasks/{body['task']}", headers=headers))
    assert task["status"] == "SUCCESS"
    assert task["outputs"]["result"]["pages"] == 1
    assert json_body(client.get(f"/api/v1/flows/{body['id']}", headers=headers))["phase"] == "done"


def test_the_api_refuses_bad_flows_with_a_message_per_field(
    app: Flask, client: FlaskClient, user: User, other_user: User
) -> None:
    headers = _bearer(_token(app, user))
    witness = make_witness(other_user, "Not mine")
    cases = [
        ({"flow": "nothing"}, "flow", "No flow is named"),
        ({"flow": "delete_witness", "data": {"witness": "x"}}, "data", "Give “witness”"),
        ({"flow": "delete_witness", "data": {"witness": witness.id}}, "data", "Only its creator"),
        ({"flow": "delete_witness", "mode": "later"}, "mode", "Must be one of"),
        ({"flow": "delete_witness", "data": [1]}, "data", "Not a valid mapping"),
    ]
    for body, field, message in cases:
        response = client.post("/api/v1/flows/", json=body, headers=headers)
        assert response.status_code == 400, body
        assert message in " ".join(json_body(response)["fields"][field]), body
    forced = client.post(
        "/api/v1/flows/",
        json={"flow": "delete_witness", "data": {"witness": witness.id}, "force_fail": True},
        headers=_bearer(_token(app, other_user)),
    )
    assert forced.status_code == 400
    assert "on purpose" in json_body(forced)["fields"]["data"][0]
    assert db.session.get(Witness, witness.id) is not None


def test_the_api_says_409_while_another_flow_holds_the_object(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "FLOW_LOCK_WAIT_SECONDS", 0.2)
    witness = make_witness(user, "Held")
    holder = FlowRecord(name="merge_witnesses", user_id=user.id)
    db.session.add(holder)
    db.session.flush()
    db.session.add(FlowLock(key=f"witness:{witness.id}", flow_id=holder.id))
    db.session.commit()
    response = client.post(
        "/api/v1/flows/",
        json={"flow": "delete_witness", "data": {"witness": witness.id}},
        headers=_bearer(_token(app, user)),
    )
    assert response.status_code == 409
    assert "is being changed by Ada (Merge two witnesses)" in json_body(response)["message"]


def test_someone_elses_flow_is_a_404_and_an_admin_sees_all(
    app: Flask, client: FlaskClient, user: User, other_user: User, admin: User
) -> None:
    witness = make_witness(user, "Mine")
    response = client.post(
        "/api/v1/flows/",
        json={"flow": "delete_witness", "data": {"witness": witness.id}},
        headers=_bearer(_token(app, user)),
    )
    flow_id = json_body(response)["id"]
    other = _bearer(_token(app, other_user))
    assert client.get(f"/api/v1/flows/{flow_id}", headers=other).status_code == 404
    assert json_body(client.get("/api/v1/flows/", headers=other))["total"] == 0
    admin_headers = _bearer(_token(app, admin))
    assert json_body(client.get("/api/v1/flows/", headers=admin_headers))["total"] == 1


def test_flows_from_the_command_line(app: Flask, user: User) -> None:
    runner = app.test_cli_runner()
    witness = make_witness(user, "From the shell")
    done = runner.invoke(
        args=[
            "flows",
            "run",
            "delete_witness",
            "--data",
            f'{{"witness": {witness.id}}}',
            "--as",
            user.email,
        ]
    )
    assert done.exit_code == 0, done.output
    assert '"deleted": {"witness": ' in done.output
    refused = runner.invoke(
        args=["flows", "run", "delete_witness", "--data", "{}", "--as", user.email]
    )
    assert refused.exit_code == 1
    assert "Give “witness” as the id" in refused.output
    assert runner.invoke(args=["flows", "run", "x", "--data", "{", "--as", user.email]).exit_code


def test_cleanup_is_refused_outside_test_mode_and_undoes_what_tests_left(
    app: Flask, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = make_witness(user)
    make_digitization(witness, pages=1, creator=user)
    before = snapshot(app)
    left = FlowRecord(
        name="delete_witness",
        user_id=user.id,
        data={"witness": witness.id},
        claimed_at=utcnow(),
        journal=[{"step": "set the files aside", "done": False}],
    )
    db.session.add(left)
    db.session.commit()
    aside = f"flows/{left.id}/aside/pages/{witness.digitizations[0].id}"
    left.state = {"aside": [[f"pages/{witness.digitizations[0].id}", aside]]}
    db.session.commit()
    root = Path(app.config["STORAGE_DIR"])
    (root / aside).parent.mkdir(parents=True)
    (root / f"pages/{witness.digitizations[0].id}").rename(root / aside)
    runner = app.test_cli_runner()
    monkeypatch.setattr(app, "testing", False)
    refused = runner.invoke(args=["flows", "cleanup"])
    assert refused.exit_code == 1
    assert "only in test mode" in refused.output
    monkeypatch.setattr(app, "testing", True)
    done = runner.invoke(args=["flows", "cleanup"])
    assert done.exit_code == 0, done.output
    assert "Undid or finished 1 flows; forgot 1." in done.output
    assert snapshot(app) == before
    assert db.session.scalars(select(FlowRecord)).all() == []


def test_a_worker_killed_mid_flow_is_rolled_back_by_the_clock(
    app: Flask, user: User, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A real process, SIGKILLed while it copies the second image of an import (its server
    never answers): the first image is copied aside, the journal says where; the clock undoes
    it once the lease has run out."""
    before = snapshot(app)
    with HangingServer() as hanging:
        url = serve_manifest(httpserver, pages=2, elsewhere={2: f"{hanging.url}/2.png"})
        environment = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
            "SECRET_KEY": "flow-test",
            "ALLOWED_PRIVATE_HOSTS": "localhost,127.0.0.1",
            "IMPORT_TIMEOUT": "120",
            "PYTHONPATH": str(ROOT),
        }
        log = tmp_path / "flow.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "flows", "run", "import_witness",
                 "--data", f'{{"manifest_url": "{url}"}}', "--as", user.email],
                cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while hanging.connections == 0:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the flow never reached the second image"
                time.sleep(0.05)
            assert len(flow_files(app)) == 2  # the first image and its pyramid, set aside
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
    db.session.expire_all()
    record = db.session.scalars(select(FlowRecord)).one()
    assert record.phase == Phase.RUNNING
    assert recover_flows() == 0  # its lease has not run out: it might be a live worker
    db.session.execute(update(FlowRecord).values(claimed_at=utcnow() - timedelta(seconds=3600)))
    db.session.commit()
    assert recover_flows() == 1
    db.session.expire_all()
    assert db.session.scalars(select(FlowRecord.phase)).one() == Phase.UNDONE
    assert db.session.scalars(select(FlowLock)).all() == []
    assert flow_files(app) == []
    assert snapshot(app) == before
