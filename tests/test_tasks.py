"""Plain background tasks (DESIGN 9): typed inputs checked with a message per input, the one
lifecycle with its history and live stream, cooperative cancel, containers whose state is
their children's, artifacts with the task's access rules, purge, and a dead worker's task
taken over."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update

from tests.concurrency import race
from tests.conftest import AuthActions, json_body, make_user, run_jobs
from tests.factories import make_witness
from tests.iiif_validation import assert_valid_presentation
from tests.test_imports import _serve_v2
from tests.test_viewers import _pairs, _regions
from tests.treatment_helpers import make_set
from webapp.auth.models import User
from webapp.catalog.models import Digitization
from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status, aggregate
from webapp.tasks.models import Task, TaskArtifact, TaskEvent
from webapp.tasks.run import artifact_folder
from webapp.tasks.runner import dispatch_tasks, run_task
from webapp.tasks.service import cancel_task, start_task
from webapp.treatments.purge import purge

API = "/api/v1/tasks/"


def _start(client: FlaskClient, name: str, **inputs: Any) -> Any:
    return client.post(API, json={"name": name, "inputs": inputs})


def _in_a_worker(app: Flask, task_id: str) -> threading.Thread:
    """The task's run in a thread of its own, as a worker runs it: an app context, no request."""

    def work() -> None:
        with app.app_context():
            run_task(task_id)
            db.session.remove()

    worker = threading.Thread(target=work)
    worker.start()
    return worker


def _task(task_id: str) -> Task:
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert task is not None
    return task


def test_a_task_runs_through_the_one_lifecycle_and_says_what_it_did(
    client: FlaskClient, logged_in: User
) -> None:
    started = _start(client, "sum", numbers=[1, 2.5, 3], scale=2)
    assert started.status_code == 201, started.get_data(as_text=True)
    body = json_body(started)
    assert (body["status"], body["label"]) == ("PENDING", "Add numbers")
    # Defaults are filled in and kept with the task.
    assert body["inputs"] == {
        "numbers": [1, 2.5, 3],
        "scale": 2,
        "mode": "sum",
        "note": "",
        "loud": False,
        "tags": None,
    }
    run_jobs()
    done = json_body(client.get(f"{API}{body['id']}"))
    assert done["status"] == "SUCCESS"
    assert done["outputs"] == {"total": 13.0}
    assert done["progress"] == {"current": 3, "target": 3, "fraction": 1.0, "text": "3 of 3"}
    assert done["message"] == "The sum is 13."
    [text] = done["artifacts"]
    assert (text["kind"], text["text"]) == ("text", "1 + 2.5 + 3 = 13")
    assert client.get(text["download"]).get_data(as_text=True) == "1 + 2.5 + 3 = 13"
    history = json_body(client.get(f"{API}{body['id']}/events"))
    assert [e["event"] for e in history if e["kind"] == "move"] == [
        "STARTED",
        "IN_PROGRESS",
        "SUCCESS",
    ]
    assert "The sum is 13." in [e["text"] for e in history if e["kind"] == "message"]
    # What the page shows after a reload is what the API said.
    page = client.get(f"/tasks/{body['id']}").get_data(as_text=True)
    for shown in ("Succeeded", "3 of 3", "The sum is 13.", "1 + 2.5 + 3 = 13", "Total"):
        assert shown in page
    assert body["id"] in client.get("/tasks/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("inputs", "problems"),
    [
        ({}, {"numbers": ["Missing data for required field."]}),
        ({"numbers": [1, "two"]}, {"numbers": ["Item 2: Not a valid number."]}),
        ({"numbers": []}, {"numbers": ["Length must be between 1 and 1000."]}),
        ({"numbers": [1], "scale": 1.5}, {"scale": ["Not a valid integer."]}),
        (
            {"numbers": [1], "scale": 0},
            {"scale": ["Must be greater than or equal to 1 and less than or equal to 100."]},
        ),
        ({"numbers": [1], "mode": "avg"}, {"mode": ["Must be one of: sum, max."]}),
        ({"numbers": [1], "loud": "yes"}, {"loud": ["Not a valid boolean."]}),
        ({"numbers": [1], "tags": [1]}, {"tags": ["Not a valid mapping type."]}),
        ({"numbers": [1], "note": "x" * 21}, {"note": ["Length must be between 0 and 20."]}),
        ({"numbers": [1], "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_bad_inputs_get_a_message_per_input_and_start_nothing(
    client: FlaskClient, logged_in: User, inputs: dict[str, Any], problems: dict[str, list[str]]
) -> None:
    response = _start(client, "sum", **inputs)
    assert response.status_code == 400
    body = json_body(response)
    assert body["fields"] == problems
    assert body["message"]
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_unknown_or_forbidden_tasks_are_refused_by_name(
    client: FlaskClient, logged_in: User
) -> None:
    unknown = json_body(_start(client, "nope"))
    assert "No task is named 'nope'" in unknown["fields"]["name"][0]
    assert "sum" in unknown["fields"]["name"][0]
    purge_refused = json_body(_start(client, "purge"))
    assert "Only administrators" in purge_refused["fields"]["name"][0]
    not_an_object = client.post(API, json={"name": "sum", "inputs": [1, 2]})
    assert not_an_object.status_code == 400
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_the_task_types_are_described_with_a_json_schema_of_their_inputs(
    client: FlaskClient, logged_in: User
) -> None:
    types = {t["name"]: t for t in json_body(client.get(f"{API}types"))}
    assert {"export_results", "import_manifests", "import_manifest", "purge", "sum"} <= set(types)
    inputs = types["sum"]["inputs"]
    assert inputs["required"] == ["numbers"]
    assert inputs["properties"]["numbers"]["items"]["type"] == "number"
    assert inputs["properties"]["mode"]["enum"] == ["sum", "max"]
    assert inputs["properties"]["scale"]["default"] == 1
    assert types["purge"]["admin_only"] is True


def test_a_failure_is_readable_and_a_bad_output_is_not_a_success(
    client: FlaskClient, logged_in: User
) -> None:
    broken = json_body(_start(client, "broken"))
    liar = json_body(_start(client, "liar"))
    run_jobs()
    for task_id in (broken["id"], liar["id"]):
        ended = json_body(client.get(f"{API}{task_id}"))
        assert ended["status"] == "ERROR"
        assert ended["error"] == "The task failed unexpectedly; the error has been logged."
        assert "/srv/app" not in client.get(f"/tasks/{task_id}").get_data(as_text=True)


def test_users_see_their_own_tasks_and_admins_all(
    client: FlaskClient, app: Flask, auth: AuthActions, user: User, other_user: User
) -> None:
    auth.login(user)
    mine = json_body(_start(client, "sum", numbers=[1]))["id"]
    run_jobs()
    client.post("/logout")
    auth.login(other_user)
    assert json_body(client.get(API))["items"] == []
    for method, url in [
        ("GET", f"{API}{mine}"),
        ("GET", f"{API}{mine}/events"),
        ("GET", f"{API}{mine}/artifacts/"),
        ("POST", f"{API}{mine}/cancel"),
        ("DELETE", f"{API}{mine}"),
        ("GET", f"/tasks/{mine}"),
        ("POST", f"/tasks/{mine}/delete"),
    ]:
        assert client.open(url, method=method).status_code == 404, url
    client.post("/logout")
    make_user("root@example.org", admin=True)
    auth.login("root@example.org")
    assert [t["id"] for t in json_body(client.get(API))["items"]] == [mine]
    # Ids are matched whatever their case.
    assert client.get(f"{API}{mine.upper()}").status_code == 200


def test_a_cancel_before_the_run_means_it_never_runs(client: FlaskClient, logged_in: User) -> None:
    task_id = json_body(_start(client, "sum", numbers=[1]))["id"]
    cancelled = json_body(client.post(f"{API}{task_id}/cancel"))
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["message"] == "Cancelled by Ada."
    run_jobs()
    assert _task(task_id).state is Status.CANCELLED
    again = client.post(f"{API}{task_id}/cancel")
    assert again.status_code == 409
    assert "already ended" in json_body(again)["message"]


def test_a_running_task_stops_at_its_next_step_once_cancelled(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    task_id = json_body(_start(client, "slow", steps=2000, pause=0.01))["id"]
    user_id = logged_in.id
    worker = _in_a_worker(app, task_id)
    deadline = time.monotonic() + 30
    while _task(task_id).current < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _task(task_id).state is Status.IN_PROGRESS
    owner = db.session.get(User, user_id)
    cancel_task(_task(task_id), owner)
    worker.join(30)
    assert not worker.is_alive()
    ended = _task(task_id)
    assert ended.state is Status.CANCELLED
    assert ended.message == "Cancelled by Ada."
    assert ended.current < 2000
    stopped_at = ended.current
    time.sleep(0.1)
    assert _task(task_id).current == stopped_at


def test_a_cancel_racing_the_end_of_a_task_is_decided_once(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    for _ in range(5):
        task_id = json_body(_start(client, "sum", numbers=[1, 2]))["id"]

        def cancel(task_id: str = task_id) -> None:
            task = db.session.get(Task, task_id)
            assert task is not None
            refused = ""
            try:
                cancel_task(task, task.owner)
            except UserError as exc:  # the loser is told it ended first
                refused = str(exc)
            assert not refused or "ended" in refused

        race(app, partial(run_task, task_id), cancel)
        ended = _task(task_id)
        assert ended.state in {Status.SUCCESS, Status.CANCELLED}
        endings = db.session.scalars(
            select(TaskEvent.event).where(
                TaskEvent.task_id == task_id,
                TaskEvent.event.in_(["SUCCESS", "CANCELLED", "ERROR"]),
            )
        ).all()
        assert endings == [ended.status]


def test_the_live_stream_sends_the_task_as_json_and_ends_with_it(
    client: FlaskClient, logged_in: User
) -> None:
    task_id = json_body(_start(client, "sum", numbers=[4]))["id"]
    run_jobs()
    stream = client.get(f"{API}{task_id}/stream").get_data(as_text=True)
    first = stream.split("event: task\n", 1)[1].split("\n\n", 1)[0]
    described = json.loads(first.removeprefix("data: "))
    assert (described["id"], described["status"]) == (task_id, "SUCCESS")
    assert described["outputs"] == {"total": 4.0}
    assert "event: end" in stream


def test_aggregate_rules_for_work_made_of_parts() -> None:
    s = Status
    assert aggregate([s.PENDING, s.PENDING]) is s.PENDING
    assert aggregate([s.SUCCESS, s.PENDING]) is s.IN_PROGRESS
    assert aggregate([s.ERROR, s.IN_PROGRESS]) is s.IN_PROGRESS
    assert aggregate([s.SUCCESS, s.SUCCESS]) is s.SUCCESS
    assert aggregate([s.SUCCESS, s.ERROR, s.CANCELLED]) is s.ERROR
    assert aggregate([s.SUCCESS, s.CANCELLED]) is s.CANCELLED


def test_manifests_import_as_a_container_of_one_task_per_manifest(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    witness = make_witness(logged_in)
    good = _serve_v2(httpserver, 3)
    missing = httpserver.url_for("/gone.json")
    httpserver.expect_request("/gone.json").respond_with_data("no", status=404)
    started = _start(client, "import_manifests", witness=witness.id, urls=[good, missing])
    assert started.status_code == 201
    container_id = json_body(started)["id"]
    run_jobs()
    container = json_body(client.get(f"{API}{container_id}"))
    assert container["container"] is True
    assert container["status"] == "ERROR"
    assert container["error"] == "1 of 2 succeeded, 1 failed."
    assert container["progress"]["text"] == "2 of 2"
    children = [json_body(client.get(f"{API}{c}")) for c in container["children"]]
    assert [c["status"] for c in children] == ["SUCCESS", "ERROR"]
    assert children[0]["outputs"]["pages"] == 3
    assert children[0]["progress"]["text"] == "3 of 3"
    assert children[0]["artifacts"][0]["kind"] == "url"
    assert "404" in children[1]["error"] or "not" in children[1]["error"]
    digitization = db.session.scalars(select(Digitization)).one()
    assert (digitization.status, digitization.pages_done) == ("SUCCESS", 3)
    # The children are listed under their container, not among the top-level tasks.
    assert [t["id"] for t in json_body(client.get(API))["items"]] == [container_id]
    listed = json_body(client.get(API, query_string={"parent": container_id}))["items"]
    assert {t["id"] for t in listed} == set(container["children"])
    page = client.get(f"/tasks/{container_id}").get_data(as_text=True)
    assert good in page
    assert missing in page


def test_a_container_succeeds_only_when_every_child_does_and_cancels_with_them(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    witness = make_witness(logged_in)
    url = _serve_v2(httpserver, 1)
    ok = json_body(_start(client, "import_manifests", witness=witness.id, urls=[url, url]))
    run_jobs()
    ended = json_body(client.get(f"{API}{ok['id']}"))
    assert (ended["status"], ended["message"]) == ("SUCCESS", "2 of 2 succeeded.")

    stopped = json_body(_start(client, "import_manifests", witness=witness.id, urls=[url, url]))
    run_task(stopped["id"])  # the container starts its children; they have not run
    container = _task(stopped["id"])
    assert container.container
    assert container.state is Status.IN_PROGRESS
    cancelled = json_body(client.post(f"{API}{stopped['id']}/cancel"))
    assert cancelled["status"] == "CANCELLED"
    run_jobs()
    children = db.session.scalars(select(Task).where(Task.parent_id == stopped["id"])).all()
    assert [c.status for c in children] == ["CANCELLED", "CANCELLED"]


def test_bad_import_inputs_are_refused_per_item(client: FlaskClient, logged_in: User) -> None:
    body = json_body(
        _start(
            client, "import_manifests", witness=999_999, urls=["https://a.org/m.json", "ftp://x"]
        )
    )
    assert body["fields"] == {
        "witness": ["No such witness."],
        "urls": ["Item 2: give the manifest's http(s) address."],
    }


def test_a_sets_results_export_as_one_zip_artifact(client: FlaskClient, logged_in: User) -> None:
    document_set = make_set(logged_in)
    regions = _regions(logged_in, document_set)
    _pairs(logged_in, document_set)
    started = _start(client, "export_results", document_set=document_set.id)
    assert started.status_code == 201
    run_jobs()
    task = json_body(client.get(f"{API}{json_body(started)['id']}"))
    assert task["status"] == "SUCCESS", task["error"]
    assert task["progress"]["text"] == "2 of 2"
    [artifact] = task["artifacts"]
    assert (artifact["kind"], artifact["name"]) == ("file", f"results-set-{document_set.id}.zip")
    with client.get(artifact["download"]) as download:
        assert download.headers["Content-Disposition"].startswith("attachment")
        archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = archive.namelist()
    folder = f"regions-{regions.id[:8]}"
    assert f"{folder}/regions.csv" in names
    assert any(n.startswith("similarity-") and n.endswith("/similarity.csv") for n in names)
    lists = [n for n in names if n.startswith(f"{folder}/annotations/")]
    assert len(lists) == 2  # one page with regions on each of two digitizations
    for name in lists:
        document = json.loads(archive.read(name))
        assert_valid_presentation(document)
        assert len(document["resources"]) == 2
    index = json.loads(archive.read("index.json"))
    assert regions.id in [t["id"] for t in index["treatments"]]
    assert task["outputs"]["files"] == len(names) - 1
    # The page shows the zip to download, and the same download works from it.
    page = client.get(task["page"]).get_data(as_text=True)
    assert artifact["name"] in page


def test_an_export_of_a_set_one_may_not_see_is_refused(
    client: FlaskClient, logged_in: User, other_user: User
) -> None:
    theirs = make_set(other_user)
    body = json_body(_start(client, "export_results", document_set=theirs.id))
    assert body["fields"] == {"document_set": ["No such document set, or not one you may see."]}
    empty = make_set(logged_in)
    task_id = json_body(_start(client, "export_results", document_set=empty.id))["id"]
    run_jobs()
    assert "No treatment has succeeded" in _task(task_id).error


def test_old_ended_tasks_are_purged_with_their_files_and_running_ones_kept(
    client: FlaskClient, logged_in: User
) -> None:
    document_set = make_set(logged_in)
    _regions(logged_in, document_set)
    old_id = json_body(_start(client, "export_results", document_set=document_set.id))["id"]
    run_jobs()
    folder = artifact_folder(old_id)
    assert any(folder.iterdir())
    running_id = json_body(_start(client, "sum", numbers=[1]))["id"]
    past = utcnow() - timedelta(days=40)
    db.session.execute(update(Task).where(Task.id == old_id).values(finished_at=past))
    db.session.execute(update(Task).where(Task.id == running_id).values(updated_at=past))
    db.session.commit()
    report = purge(timedelta(days=30))
    assert report.tasks == 1
    assert db.session.get(Task, old_id) is None
    assert not folder.exists()
    assert db.session.scalar(select(func.count(TaskArtifact.id))) == 0
    assert db.session.get(Task, running_id) is not None


def test_the_purge_is_a_task_for_administrators(client: FlaskClient, app: Flask) -> None:
    admin = make_user("root@example.org", admin=True)
    AuthActions(client).login(admin)
    started = _start(client, "purge", older_than="30d", dry_run=True)
    assert started.status_code == 201
    run_jobs()
    ended = json_body(client.get(f"{API}{json_body(started)['id']}"))
    assert ended["status"] == "SUCCESS"
    assert set(ended["outputs"]) == {"events", "treatments", "tasks", "files", "changes", "flows"}
    assert ended["message"].startswith("Would delete")
    bad = json_body(_start(client, "purge", older_than="soon"))
    assert "not an age" in bad["fields"]["older_than"][0]


def test_a_task_whose_worker_died_is_taken_over_then_given_up(
    client: FlaskClient, logged_in: User, app: Flask
) -> None:
    task_id = json_body(_start(client, "sum", numbers=[1, 2]))["id"]
    run_jobs()
    # As a worker that died mid-run leaves it: in progress, its lease long run out.
    long_ago = utcnow() - timedelta(seconds=app.config["TASK_LEASE_SECONDS"] + 60)
    db.session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(status="IN_PROGRESS", claimed_at=long_ago, finished_at=None, outputs=None)
    )
    db.session.commit()
    assert dispatch_tasks() == 1
    run_jobs()
    taken = _task(task_id)
    assert (taken.state, taken.attempts) == (Status.SUCCESS, 1)
    db.session.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(status="IN_PROGRESS", claimed_at=long_ago, attempts=app.config["TASK_MAX_ATTEMPTS"])
    )
    db.session.commit()
    assert dispatch_tasks() == 1
    run_jobs()
    given_up = _task(task_id)
    assert given_up.state is Status.ERROR
    assert "stopped" in given_up.error


def test_starting_a_task_is_refused_in_the_same_words_everywhere(logged_in: User) -> None:
    from webapp.tasks.base import InputError

    with pytest.raises(InputError) as refused:
        start_task(logged_in, "sum", {"numbers": "1"})
    assert refused.value.problems == {"numbers": ["Not a valid list."]}


@pytest.mark.parametrize("path", [API, "/api/v1/workflows/", "/api/v1/flows/"])
def test_a_body_nested_past_what_a_parser_can_read_is_a_400(
    client: FlaskClient, logged_in: User, path: str
) -> None:
    deep = '{"a":[' * 5000 + "1" + "]}" * 5000
    response = client.post(path, data=deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in json_body(response)["message"]


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800"])
def test_a_body_no_database_could_keep_is_refused_before_anything(
    client: FlaskClient, logged_in: User, text: str
) -> None:
    raw = json.dumps({"name": "sum", "inputs": {"numbers": [1], "note": text}})
    response = client.post(API, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "cannot be stored" in json_body(response)["message"]
    titled = client.post(
        "/api/v1/document-sets/", data=json.dumps({"title": text}), content_type="application/json"
    )
    assert titled.status_code == 400
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_a_task_runs_as_its_owner_where_no_one_is_logged_in(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    """As in a worker: no request, no session. The similarity CSV reads the owner's marks."""
    document_set = make_set(logged_in)
    _pairs(logged_in, document_set)
    task_id = json_body(_start(client, "export_results", document_set=document_set.id))["id"]
    _in_a_worker(app, task_id).join(60)
    task = _task(task_id)
    assert task.state is Status.SUCCESS, task.error
    assert any(name.endswith("similarity.csv") for name in _zip_names(task))


def _zip_names(task: Task) -> list[str]:
    (artifact,) = task.artifacts
    path = Path(current_app.config["STORAGE_DIR"]) / artifact.path
    return zipfile.ZipFile(path).namelist()


def test_a_container_its_last_child_did_not_settle_is_settled_by_the_clock(
    client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    """A worker that died between a child's ending and its container's settling."""
    witness = make_witness(logged_in)
    url = _serve_v2(httpserver, 1)
    started = json_body(_start(client, "import_manifests", witness=witness.id, urls=[url]))
    run_task(started["id"])  # the container starts its child, which has not run
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(Task).where(Task.parent_id == started["id"]).values(status="SUCCESS"))
    db.session.execute(update(Task).where(Task.id == started["id"]).values(updated_at=long_ago))
    db.session.commit()
    assert _task(started["id"]).state is Status.IN_PROGRESS
    dispatch_tasks()
    assert _task(started["id"]).state is Status.SUCCESS
