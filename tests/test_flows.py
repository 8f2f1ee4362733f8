"""Flows: each catalogue change happens whole, or fails leaving the database and the storage
exactly as they were, whatever step fails; one flow at a time per object."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update

from tests.conftest import make_user, run_jobs
from tests.factories import make_digitization, make_series, make_witness, make_work
from tests.flow_helpers import fail_after, flow_files, hold_at, serve_manifest, snapshot
from webapp.auth.models import User
from webapp.catalog.iiif_import import enqueue_import
from webapp.catalog.models import Digitization, Page, Series, Witness, Work
from webapp.columns import utcnow
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.flows.engine import FlowBusy, FlowError, recover_flows, submit
from webapp.flows.models import FlowLock, FlowRecord, Phase
from webapp.flows.registry import installed_flows
from webapp.lifecycle import Status
from webapp.tasks.models import Task
from webapp.tracked_jobs import tracked_job_waiting

Scenario = Callable[[User, HTTPServer], tuple[str, dict[str, Any]]]


def _witness_with_everything(user: User, siglum: str = "Vat. lat. 3867") -> Witness:
    """A witness with two digitizations (files), a work, a series, in a document set, and
    an import still waiting in the queue."""
    witness = make_witness(user, siglum)
    witness.works = [make_work(user)]
    witness.series = make_series(user)
    first = make_digitization(witness, pages=2, creator=user)
    make_digitization(witness, pages=1, creator=user)
    waiting = Digitization(
        witness=witness,
        source="man",
        status=Status.PENDING,
        pages_total=1,
        source_pages=[["f. 1", "http://localhost:9/1.png"]],
        created_by_id=user.id,
    )
    db.session.add(waiting)
    db.session.add(
        DocumentSet(title="Set", owner_id=user.id, witnesses=[witness], digitizations=[first])
    )
    db.session.commit()
    enqueue_import(waiting.id)
    return witness


def _delete_witness(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    return "delete_witness", {"witness": _witness_with_everything(user).id}


def _delete_digitization(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    witness = _witness_with_everything(user)
    return "delete_digitization", {"digitization": witness.digitizations[0].id}


def _delete_work(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    witness = _witness_with_everything(user)
    work = witness.works[0]
    db.session.add(DocumentSet(title="Works", owner_id=user.id, works=[work]))
    db.session.commit()
    return "delete_work", {"work": work.id}


def _delete_series(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    witness = _witness_with_everything(user)
    series = witness.series
    assert series is not None
    db.session.add(DocumentSet(title="Series", owner_id=user.id, series=[series]))
    db.session.commit()
    return "delete_series", {"series": series.id}


def _merge(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    into = _witness_with_everything(user)
    merged = _witness_with_everything(user, "Vat. lat. 3868")
    return "merge_witnesses", {"into": into.id, "merged": merged.id}


def _move(user: User, _server: HTTPServer) -> tuple[str, dict[str, Any]]:
    source = _witness_with_everything(user)
    target = make_witness(user, "Target")
    return "move_digitization", {"digitization": source.digitizations[0].id, "witness": target.id}


def _import(user: User, server: HTTPServer) -> tuple[str, dict[str, Any]]:
    _witness_with_everything(user)  # what is there already stays as it is
    return "import_witness", {"manifest_url": serve_manifest(server), "siglum": "New"}


SCENARIOS: dict[str, Scenario] = {
    "delete_witness": _delete_witness,
    "delete_digitization": _delete_digitization,
    "delete_work": _delete_work,
    "delete_series": _delete_series,
    "merge_witnesses": _merge,
    "move_digitization": _move,
    "import_witness": _import,
}


def _undoable_steps(name: str) -> int:
    """How many steps of the flow may fail it (those before its commit)."""
    flow_class = installed_flows()[name]
    return sum(step.where != "finish" for step in flow_class().steps())


FAILURES = [
    (name, index)
    for name, steps in [
        ("delete_witness", 4),
        ("delete_digitization", 4),
        ("delete_work", 4),
        ("delete_series", 4),
        ("merge_witnesses", 1),
        ("move_digitization", 1),
        ("import_witness", 3),
    ]
    for index in [*range(steps), "force_fail"]
]


@pytest.mark.parametrize(("name", "failing"), FAILURES)
def test_a_flow_failing_at_any_step_leaves_everything_as_it_was(
    app: Flask,
    user: User,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    failing: int | str,
) -> None:
    flow_name, data = SCENARIOS[name](user, httpserver)
    before = snapshot(app)
    if failing == "force_fail":
        with pytest.raises(FlowError, match="on purpose"):
            submit(flow_name, data, user=user, force_fail=True)
    else:
        assert isinstance(failing, int)
        assert failing < _undoable_steps(flow_name)
        fail_after(monkeypatch, installed_flows()[flow_name], failing)
        with pytest.raises(FlowError, match="failed unexpectedly and was undone"):
            submit(flow_name, data, user=user)
    assert snapshot(app) == before
    assert flow_files(app) == []
    record = db.session.scalars(select(FlowRecord)).one()
    assert record.phase == Phase.UNDONE
    assert record.error
    assert db.session.scalars(select(FlowLock)).all() == []


def test_an_undone_deletion_queues_again_the_imports_it_withdrew(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    witness = _witness_with_everything(user)
    waiting = next(d for d in witness.digitizations if d.status == Status.PENDING)
    assert tracked_job_waiting(f"import:{waiting.id}")
    with pytest.raises(FlowError):
        submit("delete_witness", {"witness": witness.id}, user=user, force_fail=True)
    assert tracked_job_waiting(f"import:{waiting.id}")


def test_deleting_a_witness_takes_its_rows_files_and_memberships_and_its_waiting_import(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    witness = _witness_with_everything(user)
    ids = [d.id for d in witness.digitizations]
    waiting = next(d.id for d in witness.digitizations if d.status == Status.PENDING)
    work_id = witness.works[0].id
    result = submit("delete_witness", {"witness": witness.id}, user=user).result
    assert result == {
        "deleted": {"witness": witness.id},
        "label": "Vat. lat. 3867",
        "digitizations": ids,
    }
    db.session.expire_all()
    assert db.session.get(Witness, witness.id) is None
    assert db.session.scalars(select(Page)).all() == []
    assert db.session.scalars(select(DocumentSet)).one().witnesses == []
    assert db.session.get(Work, work_id) is not None  # a work is not the witness's own
    _rows, files = snapshot(app)
    assert files == {}
    assert not tracked_job_waiting(f"import:{waiting}")
    record = db.session.scalars(select(FlowRecord)).one()
    assert record.phase == Phase.DONE
    assert record.finished_at is not None
    assert db.session.scalars(select(FlowLock)).all() == []


def test_merging_moves_digitizations_works_and_memberships(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    _name, data = _merge(user, httpserver)
    merged = db.session.get(Witness, data["merged"])
    assert merged is not None
    moved = [d.id for d in merged.digitizations]
    works = {w.id for w in merged.works}
    into_before = db.session.get(Witness, data["into"])
    assert into_before is not None
    works |= {w.id for w in into_before.works}
    merged_set = DocumentSet(title="Merged only", owner_id=user.id, witnesses=[merged])
    db.session.add(merged_set)
    db.session.commit()
    submit("merge_witnesses", data, user=user)
    db.session.expire_all()
    into = db.session.get(Witness, data["into"])
    assert into is not None
    assert db.session.get(Witness, data["merged"]) is None
    assert set(moved) <= {d.id for d in into.digitizations}
    assert {w.id for w in into.works} == works
    assert len(works) == 2
    # Each set that held either witness holds the merged one, once.
    for document_set in db.session.scalars(select(DocumentSet)):
        if document_set.title in {"Set", "Merged only"}:
            assert [w.id for w in document_set.witnesses] == [into.id]


def test_moving_a_digitization(app: Flask, user: User, httpserver: HTTPServer) -> None:
    _name, data = _move(user, httpserver)
    result = submit("move_digitization", data, user=user).result
    assert result is not None
    assert result["witness"] == data["witness"]
    db.session.expire_all()
    digitization = db.session.get(Digitization, data["digitization"])
    assert digitization is not None
    assert digitization.witness_id == data["witness"]


def test_importing_a_manifest_as_a_new_witness(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    url = serve_manifest(httpserver, pages=3)
    result = submit("import_witness", {"manifest_url": url}, user=user).result
    assert result is not None
    assert result["pages"] == 3
    witness = db.session.get(Witness, result["witness"])
    assert witness is not None
    assert witness.siglum == "Vat. lat. 3867"
    digitization = witness.digitizations[0]
    assert digitization.status == Status.SUCCESS
    assert digitization.manifest_url == url
    assert [p.label for p in digitization.pages] == ["f. 1r", "f. 2r", "f. 3r"]
    for page in digitization.pages:
        assert (app.config["STORAGE_DIR"] / __import__("pathlib").Path(page.file)).is_file()
    assert flow_files(app) == []


def test_an_import_with_one_bad_image_imports_nothing_and_says_which(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    url = serve_manifest(httpserver, pages=3, broken=2)
    before = snapshot(app)
    with pytest.raises(FlowError, match="Image 2 could not be copied, so nothing was imported"):
        submit("import_witness", {"manifest_url": url}, user=user)
    assert snapshot(app) == before
    assert flow_files(app) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nothing_such", {}, "No flow is named"),
        ("delete_witness", {}, "Give “witness” as the id"),
        ("delete_witness", {"witness": "1"}, "Give “witness” as the id"),
        ("delete_witness", {"witness": True}, "Give “witness” as the id"),
        ("delete_witness", {"witness": 2**40}, "No record has the id"),
        ("delete_witness", {"witness": 999}, "No such witness"),
        ("merge_witnesses", {"into": 1, "merged": 1}, "cannot be merged into itself"),
        ("import_witness", {"manifest_url": "ftp://x/m.json"}, r"http\(s\) URL"),
        ("import_witness", {"manifest_url": "http://x/" + "a" * 2000}, "longer than"),
        ("import_witness", {"manifest_url": "http://x/m", "kind": "scroll"}, "“kind” as one of"),
        ("import_witness", [1, 2], "as a JSON object"),
    ],
)
def test_bad_data_is_refused_with_its_reason_before_anything_is_done(
    app: Flask, user: User, name: str, data: Any, message: str
) -> None:
    with pytest.raises(FlowError, match=message):
        submit(name, data, user=user)
    assert db.session.scalars(select(FlowRecord)).all() == []


def test_only_a_creator_or_an_admin_may_change_an_entry(
    app: Flask, user: User, other_user: User, admin: User
) -> None:
    witness = make_witness(user)
    with pytest.raises(FlowError, match="Only its creator or an administrator"):
        submit("delete_witness", {"witness": witness.id}, user=other_user)
    submit("delete_witness", {"witness": witness.id}, user=admin)


def test_a_second_flow_on_the_same_witness_waits_then_is_refused_naming_the_first(
    app: Flask, user: User, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real concurrency: the first flow holds the witness in a thread of its own."""
    monkeypatch.setitem(app.config, "FLOW_LOCK_WAIT_SECONDS", 0.5)
    witness = _witness_with_everything(user, "Held")
    target = make_witness(user, "Elsewhere")
    moved = witness.digitizations[0].id
    witness_id, target_id = witness.id, target.id
    reached, release = hold_at(monkeypatch, installed_flows()["delete_witness"], 2)
    outcome: dict[str, Any] = {}

    def first() -> None:
        with app.app_context():
            try:
                owner = db.session.get(User, user.id)
                assert owner is not None
                outcome["first"] = submit("delete_witness", {"witness": witness_id}, user=owner)
            except BaseException as exc:
                outcome["first"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert reached.wait(30)
        for name, data in [
            ("merge_witnesses", {"into": target_id, "merged": witness_id}),
            ("move_digitization", {"digitization": moved, "witness": target_id}),
            ("delete_witness", {"witness": witness_id}),
        ]:
            with pytest.raises(FlowBusy) as refused:
                submit(name, data, user=user)
            assert "is being changed by" in str(refused.value)
            assert "(Delete a witness); try again." in str(refused.value)
        # Another witness is free meanwhile.
        assert submit("delete_witness", {"witness": target_id}, user=user).result
    finally:
        release.set()
        thread.join(30)
    assert not isinstance(outcome["first"], BaseException), outcome["first"]
    db.session.expire_all()
    assert db.session.get(Witness, witness_id) is None


def test_a_second_flow_that_waits_less_than_the_lock_wait_goes_ahead(
    app: Flask, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "FLOW_LOCK_WAIT_SECONDS", 20)
    witness = make_witness(user, "Moved twice")
    digitization = make_digitization(witness, pages=1, creator=user)
    targets = [make_witness(user, f"Target {n}").id for n in (1, 2)]
    ids = digitization.id
    reached, release = hold_at(monkeypatch, installed_flows()["move_digitization"], 0)
    results: list[Any] = []

    def move(target: int) -> None:
        with app.app_context():
            owner = db.session.get(User, user.id)
            assert owner is not None
            try:
                results.append(
                    submit(
                        "move_digitization", {"digitization": ids, "witness": target}, user=owner
                    ).result
                )
            except BaseException as exc:
                results.append(exc)
            finally:
                db.session.remove()

    first = threading.Thread(target=move, args=(targets[0],))
    first.start()
    assert reached.wait(30)
    second = threading.Thread(target=move, args=(targets[1],))
    second.start()
    release.set()  # the second waits for the lock meanwhile, then goes ahead
    first.join(30)
    second.join(30)
    assert len(results) == 2
    assert not any(isinstance(r, BaseException) for r in results), results
    db.session.expire_all()
    moved = db.session.get(Digitization, ids)
    assert moved is not None
    assert moved.witness_id == targets[1]


def test_a_flow_whose_finish_did_not_run_is_finished_by_the_clock(
    app: Flask, user: User, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if its worker died between the commit and the removal of the files set aside."""
    witness = _witness_with_everything(user)
    flow_class = installed_flows()["delete_witness"]
    original = flow_class.steps
    monkeypatch.setattr(
        flow_class, "steps", lambda self: [s for s in original(self) if s.where != "finish"]
    )
    submit("delete_witness", {"witness": witness.id}, user=user)
    monkeypatch.setattr(flow_class, "steps", original)
    db.session.execute(update(FlowRecord).values(phase=Phase.COMMITTED, claimed_at=utcnow()))
    db.session.commit()
    assert flow_files(app) != []
    assert recover_flows() == 0  # its lease still runs: a live worker may be finishing it
    db.session.execute(update(FlowRecord).values(claimed_at=utcnow() - timedelta(seconds=3600)))
    db.session.commit()
    assert recover_flows() == 1
    assert flow_files(app) == []
    assert db.session.scalars(select(FlowRecord.phase)).one() == Phase.DONE


def test_an_async_flow_is_a_task_to_follow(app: Flask, user: User, httpserver: HTTPServer) -> None:
    url = serve_manifest(httpserver, pages=2)
    submitted = submit("import_witness", {"manifest_url": url}, user=user, mode="async")
    assert submitted.task_id is not None
    assert submitted.result is None
    task = db.session.get(Task, submitted.task_id)
    assert task is not None
    assert task.status == Status.PENDING
    assert task.name == "flow"
    run_jobs()
    db.session.expire_all()
    task = db.session.get(Task, submitted.task_id)
    assert task is not None
    assert task.status == Status.SUCCESS, task.error
    assert task.outputs is not None
    assert task.outputs["result"]["pages"] == 2
    assert task.target == 3
    assert task.current == 3


def test_an_async_flow_that_fails_is_a_failed_task_with_its_reason(
    app: Flask, user: User, httpserver: HTTPServer
) -> None:
    witness = make_witness(user)
    make_digitization(witness, pages=2, creator=user)
    before = snapshot(app)
    submitted = submit(
        "delete_witness", {"witness": witness.id}, user=user, mode="async", force_fail=True
    )
    run_jobs()
    db.session.expire_all()
    task = db.session.get(Task, submitted.task_id)
    assert task is not None
    assert task.status == Status.ERROR
    assert "on purpose" in task.error
    assert snapshot(app) == before


def test_a_flow_task_cannot_be_started_by_hand(app: Flask, client: FlaskClient) -> None:
    owner = make_user("hand@example.org")
    from webapp.tasks.base import InputError
    from webapp.tasks.registry import background_tasks, offered_tasks
    from webapp.tasks.service import start_task

    with pytest.raises(InputError, match="submitted, not started"):
        start_task(owner, "flow", {"flow": "x"})
    assert "flow" in background_tasks()
    assert "flow" not in offered_tasks()


def test_the_clock_undoes_the_flow_of_a_task_cancelled_before_it_ran(
    app: Flask, user: User
) -> None:
    witness = make_witness(user)
    submitted = submit("delete_witness", {"witness": witness.id}, user=user, mode="async")
    db.session.execute(
        update(Task).where(Task.id == submitted.task_id).values(status=Status.CANCELLED)
    )
    db.session.commit()
    assert recover_flows() == 1
    assert db.session.scalars(select(FlowRecord.phase)).one() == Phase.UNDONE
    assert db.session.scalars(select(FlowLock)).all() == []
    assert db.session.get(Witness, witness.id) is not None


def test_deleting_through_the_pages_goes_through_the_flow(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    series = make_series(logged_in)
    work = make_work(logged_in)
    witness = _witness_with_everything(logged_in)
    for kind, entry_id in [("works", work.id), ("series", series.id), ("witnesses", witness.id)]:
        response = client.post(f"/catalog/{kind}/{entry_id}/delete", follow_redirects=True)
        assert response.status_code == 200
        assert "was deleted, and removed from every set" in response.get_data(as_text=True)
    names = db.session.scalars(select(FlowRecord.name).order_by(FlowRecord.started_at)).all()
    assert names == ["delete_work", "delete_series", "delete_witness"]
    assert db.session.get(Series, series.id) is None
    assert db.session.get(Work, work.id) is None


def test_merge_move_and_import_from_the_pages(
    app: Flask, client: FlaskClient, logged_in: User, httpserver: HTTPServer
) -> None:
    into = make_witness(logged_in, "Into")
    merged = make_witness(logged_in, "Merged")
    digitization = make_digitization(merged, pages=1, creator=logged_in)
    page = client.get(f"/catalog/witnesses/{into.id}").get_data(as_text=True)
    assert "Merge another witness into this one" in page
    assert "Merged (wit" in page
    response = client.post(
        f"/catalog/witnesses/{into.id}/merge",
        data={"merged_id": merged.id},
        follow_redirects=True,
    )
    assert "The witnesses were merged into “Into”." in response.get_data(as_text=True)
    other = make_witness(logged_in, "Other")
    page = client.get(f"/catalog/digitizations/{digitization.id}").get_data(as_text=True)
    assert "Move to the witness" in page
    response = client.post(
        f"/catalog/digitizations/{digitization.id}/move",
        data={"witness_id": other.id},
        follow_redirects=True,
    )
    assert "The digitization was moved." in response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(Digitization, digitization.id)
    assert moved is not None
    assert moved.witness_id == other.id
    # An id that is not among the choices (someone else's witness) is refused.
    foreign = make_witness(make_user("foreign@example.org"), "Foreign")
    response = client.post(
        f"/catalog/digitizations/{digitization.id}/move",
        data={"witness_id": foreign.id},
        follow_redirects=True,
    )
    assert "Choose the witness to move it to." in response.get_data(as_text=True)

    url = serve_manifest(httpserver, pages=1)
    response = client.post(
        "/catalog/witnesses/import",
        data={"manifest_url": url, "siglum": "From the page", "kind": "print"},
    )
    assert response.status_code == 302
    assert "/tasks/" in response.headers["Location"]
    run_jobs()
    created = db.session.scalars(select(Witness).where(Witness.siglum == "From the page")).one()
    assert created.kind == "print"
    assert len(created.digitizations[0].pages) == 1
    response = client.post("/catalog/witnesses/import", data={"manifest_url": "nope"})
    assert response.status_code == 400
    assert "Give an http(s) URL." in response.get_data(as_text=True)


def test_a_refused_deletion_on_the_page_says_why_and_keeps_the_entry(
    app: Flask, client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = make_witness(logged_in, "Busy")
    db.session.add(FlowRecord(name="merge_witnesses", user_id=logged_in.id))
    db.session.flush()
    record = db.session.scalars(select(FlowRecord)).one()
    db.session.add(FlowLock(key=f"witness:{witness.id}", flow_id=record.id))
    db.session.commit()
    monkeypatch.setitem(app.config, "FLOW_LOCK_WAIT_SECONDS", 0.2)
    response = client.post(f"/catalog/witnesses/{witness.id}/delete", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "The witness “Busy” is being changed by" in text
    assert "Merge two witnesses" in text
    assert db.session.get(Witness, witness.id) is not None


def test_cancelling_a_running_async_flow_undoes_what_it_did(
    app: Flask, user: User, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_tasks import _in_a_worker
    from webapp.tasks.service import cancel_task

    before = snapshot(app)
    url = serve_manifest(httpserver, pages=2)
    reached, release = hold_at(monkeypatch, installed_flows()["import_witness"], 1)
    submitted = submit("import_witness", {"manifest_url": url}, user=user, mode="async")
    task_id = submitted.task_id
    assert task_id is not None
    worker = _in_a_worker(app, task_id)
    try:
        assert reached.wait(30)
        assert flow_files(app) != []  # the images are copied aside
        task = db.session.get(Task, task_id)
        assert task is not None
        cancel_task(task, user)
    finally:
        release.set()
        worker.join(30)
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert task is not None
    assert task.status == Status.CANCELLED
    record = db.session.scalars(select(FlowRecord)).one()
    assert record.phase == Phase.UNDONE
    assert "cancelled" in record.error
    assert flow_files(app) == []
    assert snapshot(app) == before
