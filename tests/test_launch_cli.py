"""`flask treatments launch`: a task queued from the command line, its parameters checked by
the task's form, and with --wait, followed to its end: exit 0 on success, 1 otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.treatment_helpers import make_set, regions_file
from webapp import ROOT
from webapp.auth.models import User
from webapp.extensions import db
from webapp.tasks.models import Task
from webapp.treatments.models import Treatment


def _flask(app: Flask, *args: str) -> subprocess.Popen[str]:
    """`flask --app wsgi ARGS` in a process of its own, on the tests' database and Redis."""
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "STORAGE_DIR": app.config["STORAGE_DIR"],
        "SECRET_KEY": "cli-test",
        "BACKGROUND_TASKS": ",".join(app.config["BACKGROUND_TASKS"]),
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _launched() -> bool:
    db.session.expire_all()
    return db.session.scalar(select(Treatment.tracking_id)) is not None


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Treatment)) or 0


def test_a_launch_from_the_command_line_is_checked_like_the_form(
    app: Flask, user: User, processing_api: ProcessingAPI
) -> None:
    document_set = make_set(user)
    runner = app.test_cli_runner()
    base = ["treatments", "launch", "--set", str(document_set.id)]
    done = runner.invoke(args=[*base, "--task", "regions", "--param", "model=fancy"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Queued ")
    treatment = db.session.scalars(select(Treatment)).one()
    assert (treatment.owner_id, treatment.parameters["model"]) == (user.id, "fancy")
    refused = runner.invoke(args=[*base, "--task", "similarity", "--param", "topk=1000"])
    assert refused.exit_code == 1
    assert "topk:" in refused.output
    assert "regions_treatment:" in refused.output
    assert runner.invoke(args=[*base, "--task", "regions", "--param", "colour=red"]).exit_code == 1
    assert runner.invoke(args=[*base, "--task", "regions", "--param", "no-equals"]).exit_code == 2
    assert runner.invoke(args=[*base, "--task", "nothing"]).exit_code == 2
    missing = runner.invoke(args=["treatments", "launch", "--set", "999999", "--task", "regions"])
    assert "No document set 999999" in missing.output
    stranger = runner.invoke(args=[*base, "--task", "regions", "--as", "nobody@example.org"])
    assert stranger.exit_code == 1
    assert _count() == 1


def test_waiting_gives_up_after_its_timeout_with_exit_1(app: Flask, user: User) -> None:
    document_set = make_set(user)
    waited = app.test_cli_runner().invoke(
        args=[
            *("treatments", "launch", "--set", str(document_set.id), "--task", "regions"),
            *("--wait", "--every", "0.05", "--timeout", "0.3"),
        ]
    )
    assert waited.exit_code == 1
    assert "Queued: 0 of 2 documents" in waited.output
    assert "not waiting" in waited.output


def test_wait_follows_the_treatment_to_its_success(
    app: Flask, client: FlaskClient, user: User, processing_api: ProcessingAPI
) -> None:
    """The command in a process of its own, as an operator runs it, while the work goes on."""
    document_set = make_set(user)
    with _flask(
        app,
        *("treatments", "launch", "--set", str(document_set.id), "--task", "regions"),
        *("--wait", "--every", "0.1", "--timeout", "120"),
    ) as process:
        deadline = time.monotonic() + 60
        # The command commits its treatment, then queues its launch: run jobs until it started.
        while not _launched():
            assert time.monotonic() < deadline, "the command never queued its treatment"
            assert process.poll() is None, process.communicate()
            run_jobs()
            time.sleep(0.1)
        treatment = db.session.scalars(select(Treatment)).one()
        uids = treatment.document_uids
        url = processing_api.serve("/r.json", regions_file(uids[0]))
        notify(
            client,
            treatment,
            "PROGRESS",
            output={"results_url": [{"doc_id": uids[0], "result_url": url}]},
        )
        run_jobs()
        time.sleep(0.5)
        notify(client, treatment, "SUCCESS", output={"results_url": []})
        run_jobs()
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    lines = out.splitlines()
    assert lines[0].startswith("Queued ")
    # Each state it saw, once; the PROGRESS lasted long enough to be seen.
    assert len(lines) == len(set(lines))
    assert any(line.startswith("In progress: 1 of 2 documents") for line in lines), out
    assert lines[-1].startswith("Succeeded: 1 of 2 documents"), out


@pytest.mark.parametrize(("name", "inputs", "code"), [("sum", "[2, 3]", 0), ("broken", "", 1)])
def test_tasks_launch_and_wait_from_the_command_line_too(
    app: Flask, user: User, name: str, inputs: str, code: int
) -> None:
    given = ("--input", f"numbers={inputs}") if inputs else ()
    with _flask(
        app,
        *("tasks", "launch", name, *given, "--as", user.email),
        *("--wait", "--every", "0.1", "--timeout", "120"),
    ) as process:
        # The command commits its task, then queues it: the job is run once it is there.
        deadline = time.monotonic() + 60
        while process.poll() is None:
            assert time.monotonic() < deadline, "the command never saw its task end"
            run_jobs()
            time.sleep(0.1)
        out, err = process.communicate(timeout=60)
    assert process.returncode == code, err[-2000:]
    lines = out.splitlines()
    assert lines[0].startswith("Queued ")
    if code == 0:
        assert "Succeeded: 2 of 2 · The sum is 5." in lines
        assert json.loads(lines[-1]) == {"total": 5.0}
    else:
        assert lines[-2].startswith("Failed")
        assert lines[-1] == "Error: The task failed unexpectedly; the error has been logged."


def test_tasks_launch_refuses_bad_inputs_with_their_messages(app: Flask, user: User) -> None:
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["tasks", "launch", "sum", "--as", user.email])
    assert refused.exit_code == 1
    assert "numbers: Missing data for required field." in refused.output
    typed = runner.invoke(
        args=[
            *("tasks", "launch", "sum", "--json", '{"numbers": [1]}'),
            *("--input", "scale=x", "--as", user.email),
        ]
    )
    assert "scale: Not a valid integer." in typed.output
    assert runner.invoke(args=["tasks", "launch", "sum", "--as", "nobody@x.org"]).exit_code == 1
    assert _tasks() == 0
    done = runner.invoke(
        args=["tasks", "launch", "sum", "--input", "numbers=[1]", "--as", user.email]
    )
    assert done.exit_code == 0
    listed = runner.invoke(args=["tasks", "list"])
    assert "\tPENDING\tsum\t" in listed.output


def _tasks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Task)) or 0
