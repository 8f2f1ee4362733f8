"""Lists that follow the work a user may see: treatments removed when deleted, the tasks and
workflows lists told to fetch their rows again when their work changes, and polling that
goes on for as long as a list is open."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, run_jobs
from tests.processing_api import ProcessingAPI, notify
from tests.streams import read_events
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.extensions import db
from webapp.live.hub import Hub
from webapp.tasks.models import Task
from webapp.tasks.service import start_task
from webapp.treatments.models import Treatment


def _ended(client: FlaskClient, owner: User) -> Treatment:
    treatment = launch(client, make_set(owner), notify_email=False)
    notify(client, treatment, "SUCCESS", output={"results_url": []})
    run_jobs()
    db.session.refresh(treatment)
    assert treatment.status == "SUCCESS"
    return treatment


def test_a_deleted_treatment_leaves_the_lists_that_show_it(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    treatment = _ended(client, logged_in)
    response = client.get("/treatments/stream")
    ((first, _),) = read_events(response, 1)
    assert first == f"row-{treatment.id}"
    assert client.post(f"/treatments/{treatment.id}/delete").status_code == 302
    ((name, row),) = read_events(response, 1)
    assert name == f"row-{treatment.id}"
    assert row == f'<tr id="row-{treatment.id}" class="removed" hidden></tr>'
    response.close()
    # Polled, the list is the rows that are left, and it goes on being polled.
    rows = client.get("/treatments/rows")
    assert rows.status_code == 200
    assert treatment.id not in rows.get_data(as_text=True)


def test_the_tasks_list_is_told_when_a_task_it_may_show_changes(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    logged_in: User,
    other_user: User,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    page = client.get("/tasks/").get_data(as_text=True)
    assert 'sse-connect="/tasks/stream"' in page
    assert 'hx-trigger="sse:changed"' in page
    assert "No tasks." in page  # an empty list is a table to add rows to
    response = client.get("/tasks/stream")
    assert read_events(response, 1) == [("changed", "")]  # on (re)connect: fetch what changed
    theirs = start_task(other_user, "sum", {"numbers": [1, 2]}).task
    mine = start_task(logged_in, "sum", {"numbers": [1, 2]}).task
    # Only the reader's own task is news to them.
    assert read_events(response, 1) == [("changed", "")]
    rows = client.get("/tasks/rows").get_data(as_text=True)
    assert f'id="task-{mine.id}"' in rows
    assert theirs.id not in rows
    run_jobs()
    assert read_events(response, 1) == [("changed", "")]
    response.close()
    db.session.expire_all()
    assert db.session.get(Task, mine.id).status == "SUCCESS"  # type: ignore[union-attr]
    response = client.get("/tasks/stream")
    read_events(response, 1)
    assert client.post(f"/tasks/{mine.id}/delete").status_code == 302
    assert read_events(response, 1) == [("changed", "")]
    response.close()
    assert mine.id not in client.get("/tasks/rows").get_data(as_text=True)


def test_the_workflows_list_is_told_when_a_workflow_of_the_reader_moves(
    client: FlaskClient,
    logged_in: User,
    processing_api: ProcessingAPI,
    listening_hub: Hub,
    long_streams: None,
) -> None:
    page = client.get("/workflows/").get_data(as_text=True)
    assert 'sse-connect="/workflows/stream"' in page
    assert "No workflows yet." in page
    response = client.get("/workflows/stream")
    assert read_events(response, 1) == [("changed", "")]
    document_set = make_set(logged_in)
    made = client.post(
        "/workflows/", data={"definition": "full-analysis", "document_set": str(document_set.id)}
    )
    assert made.status_code == 302
    assert read_events(response, 1) == [("changed", "")]
    response.close()
    rows = client.get("/workflows/rows").get_data(as_text=True)
    workflow_id = made.headers["Location"].rsplit("/", 1)[-1]
    assert f'id="workflow-{workflow_id}"' in rows
