"""The timeline: each change a user or an administrator makes is recorded once, with who made
it, to what, how it ended; shown on the object's page, the account page, the admin area, and
listed by the API; purged with the rest, but what administrators must keep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import PASSWORD, AuthActions, json_body, run_jobs
from tests.factories import make_digitization, make_witness
from tests.test_api import _bearer, _token
from tests.treatment_helpers import launch, make_set
from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.flows.engine import FlowError, submit
from webapp.timeline.models import TimelineEntry
from webapp.treatments.models import Treatment
from webapp.treatments.purge import purge


def _entries() -> list[tuple[str, str, str, str]]:
    """(action, actor's email, object kind, outcome), oldest first."""
    db.session.expire_all()
    return [
        (e.action, e.actor_email, e.object_kind, e.outcome)
        for e in db.session.scalars(select(TimelineEntry).order_by(TimelineEntry.id))
    ]


def _last() -> TimelineEntry:
    entry = db.session.scalars(select(TimelineEntry).order_by(TimelineEntry.id.desc())).first()
    assert entry is not None
    return entry


def test_treatment_actions_are_recorded_and_shown_on_its_page_after_a_reload(
    app: Flask, client: FlaskClient, logged_in: User, processing_api: Any
) -> None:
    document_set = make_set(logged_in)
    treatment = launch(client, document_set)
    assert client.post(f"/treatments/{treatment.id}/cancel").status_code == 302
    relaunched = client.post(f"/treatments/{treatment.id}/relaunch")
    assert relaunched.status_code == 302
    run_jobs()
    email = logged_in.email
    assert _entries() == [
        ("treatment.launch", email, "treatment", "success"),
        ("treatment.cancel", email, "treatment", "success"),
        ("treatment.relaunch", email, "treatment", "success"),
    ]
    page = client.get(f"/treatments/{treatment.id}").get_data(as_text=True)
    assert "Launched a treatment" in page
    assert "Cancelled a treatment" in page
    assert page.index("Cancelled a treatment") < page.index("Launched a treatment")  # newest first
    client.post(f"/treatments/{treatment.id}/delete")
    assert _last().action == "treatment.delete"
    assert _last().object_id == treatment.id
    assert _last().object_label == f"regions · {document_set.title}"


def test_set_actions_and_sharing_are_recorded(
    app: Flask, client: FlaskClient, logged_in: User, other_user: User
) -> None:
    witness = make_witness(logged_in)
    assert client.post("/sets/", data={"title": "Diagrams"}).status_code == 302
    set_id = db.session.scalars(select(TimelineEntry.object_id)).one()
    client.post(f"/sets/{set_id}/rename", data={"title": "Figures"})
    client.post(f"/sets/{set_id}/members", data={"kind": "witness", "id": str(witness.id)})
    client.post(f"/sets/{set_id}/members/remove", data={"kind": "witness", "id": str(witness.id)})
    client.post(
        f"/sets/{set_id}/sharing", data={"visibility": "shared", "shared_with": other_user.email}
    )
    email = logged_in.email
    assert [entry[0] for entry in _entries()] == [
        "set.create",
        "set.rename",
        "set.add",
        "set.remove",
        "sharing",
    ]
    assert _last().details == {"visibility": "shared", "shared_with": [other_user.email]}
    page = client.get(f"/sets/{set_id}").get_data(as_text=True)
    assert "Renamed a document set" in page
    assert "Changed who may see it" in page
    client.post(f"/sets/{set_id}/delete")
    assert _entries()[-1] == ("set.delete", email, "document_set", "success")
    assert _last().object_label == "Figures"


def test_account_actions_are_recorded_kept_and_listed_on_the_account_page(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    client.post("/account/tokens", data={"name": "nightly"})
    token_id = db.session.scalars(select(TimelineEntry)).one().details
    assert token_id == {"name": "nightly"}
    client.post("/account/callback-secret")
    client.post("/account/language", data={"locale": "fr"})
    client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "battery staple 22", "confirm": "battery staple 22"},
    )
    actions = [(e.action, e.kept) for e in db.session.scalars(select(TimelineEntry))]
    assert actions == [
        ("account.token", True),
        ("account.webhook_secret", False),
        ("account.settings", False),
        ("account.password", True),
    ]
    page = client.get("/account/password").get_data(as_text=True)
    assert "Vos modifications récentes" in page  # the language chosen above
    assert "A modifié son mot de passe" in page


def test_admin_actions_are_recorded_kept_and_filtered_in_the_admin_area(
    app: Flask, client: FlaskClient, auth: AuthActions, admin: User, user: User
) -> None:
    auth.login(admin)
    client.post(f"/admin/users/{user.id}/deactivate")
    client.post(f"/admin/users/{user.id}/grant-admin")
    client.post(f"/admin/users/{user.id}/reset-password")
    client.post("/admin/queues/default/failed/missing/requeue")
    entries = list(db.session.scalars(select(TimelineEntry).order_by(TimelineEntry.id)))
    assert [(e.action, e.object_label, e.outcome, e.kept) for e in entries] == [
        ("admin.user", user.name, "success", True),
        ("admin.user", user.name, "success", True),
        ("admin.password_reset", user.name, "success", True),
        ("admin.job", "", "failure", True),
    ]
    assert entries[0].details == {"active": False}
    assert {e.actor_email for e in entries} == {admin.email}
    page = client.get("/admin/timeline").get_data(as_text=True)
    assert "<td>Reset an account&#39;s password" in page
    assert "<td>Acted on a failed job" in page
    filtered = client.get("/admin/timeline?outcome=failure").get_data(as_text=True)
    assert "<td>Acted on a failed job" in filtered
    assert "<td>Reset an account" not in filtered
    by_action = client.get("/admin/timeline?action=admin.user&since=2000-01-01").get_data(
        as_text=True
    )
    assert by_action.count("<td>Changed an account") == 2
    assert "<td>Reset an account" not in by_action
    nobody = client.get("/admin/timeline?actor=nobody@").get_data(as_text=True)
    assert "No change recorded matches." in nobody


def test_the_admin_timeline_is_for_admins_only(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    assert client.get("/admin/timeline").status_code in {403, 404}


def test_flows_are_recorded_with_their_outcome_on_the_object(
    app: Flask, client: FlaskClient, logged_in: User
) -> None:
    into = make_witness(logged_in, "Into")
    merged = make_witness(logged_in, "Merged")
    make_digitization(merged, pages=1, creator=logged_in)
    with pytest.raises(FlowError):
        submit("merge_witnesses", {"into": into.id, "merged": merged.id}, user=logged_in,
               force_fail=True)  # fmt: skip
    failed = _last()
    assert (failed.action, failed.outcome, failed.object_kind) == (
        "flow.merge_witnesses",
        "failure",
        "witness",
    )
    assert "on purpose" in failed.details["error"]
    client.post(f"/catalog/witnesses/{into.id}/merge", data={"merged_id": merged.id})
    done = _last()
    assert (done.outcome, done.object_id, done.object_label) == ("success", str(into.id), "Into")
    page = client.get(f"/catalog/witnesses/{into.id}").get_data(as_text=True)
    assert page.count("Merge two witnesses") >= 2  # the failure and the success
    witness = make_witness(logged_in, "Deleted")
    client.post(f"/catalog/witnesses/{witness.id}/delete")
    deleted = _last()
    assert (deleted.action, deleted.object_id, deleted.object_label) == (
        "flow.delete_witness",
        str(witness.id),
        "Deleted",
    )


def test_catalogue_edits_are_recorded(app: Flask, client: FlaskClient, logged_in: User) -> None:
    client.post("/catalog/works/new", data={"title": "Almagest"})
    work_id = _last().object_id
    client.post(f"/catalog/works/{work_id}/edit", data={"title": "Almagestum"})
    assert [e[0] for e in _entries()] == ["catalog.create", "catalog.edit"]
    assert _last().object_label == "Almagestum"
    assert "Edited a catalogue entry" in client.get(f"/catalog/works/{work_id}").get_data(
        as_text=True
    )


def test_the_api_lists_ones_own_changes_and_an_admin_everyones(
    app: Flask, client: FlaskClient, user: User, other_user: User, admin: User
) -> None:
    mine, theirs = _bearer(_token(app, user)), _bearer(_token(app, other_user))
    client.post("/api/v1/document-sets/", json={"title": "Mine"}, headers=mine)
    client.post("/api/v1/document-sets/", json={"title": "Theirs"}, headers=theirs)
    listed = json_body(client.get("/api/v1/timeline/?action=set.create", headers=mine))
    assert [item["object_label"] for item in listed["items"]] == ["Mine"]
    assert listed["items"][0]["action_label"] == "Created a document set"
    # A user cannot read another's by naming them.
    named = json_body(client.get(f"/api/v1/timeline/?actor={other_user.email}", headers=mine))
    assert {item["actor_email"] for item in named["items"]} == {user.email}
    everyone = _bearer(_token(app, admin))
    sets = json_body(client.get("/api/v1/timeline/?action=set.create", headers=everyone))
    assert sets["total"] == 2
    one = json_body(
        client.get(
            f"/api/v1/timeline/?action=set.create&actor={other_user.email}", headers=everyone
        )
    )
    assert [item["object_label"] for item in one["items"]] == ["Theirs"]
    later = json_body(client.get("/api/v1/timeline/?since=2999-01-01T00:00:00Z", headers=everyone))
    assert later["total"] == 0
    bad = client.get("/api/v1/timeline/?outcome=maybe", headers=mine)
    assert bad.status_code == 400


def test_purge_forgets_old_changes_but_what_admins_must_keep(
    app: Flask, client: FlaskClient, user: User
) -> None:
    client.post("/api/v1/document-sets/", json={"title": "Old"}, headers=_bearer(_token(app, user)))
    db.session.execute(update(TimelineEntry).values(at=utcnow() - timedelta(days=90)))
    db.session.commit()
    kinds = [(e.action, e.kept) for e in db.session.scalars(select(TimelineEntry))]
    assert kinds == [("account.token", True), ("set.create", False)]
    report = purge(timedelta(days=30), dry_run=True)
    assert report.changes == 1
    assert "1 timeline entr(ies)" in str(report)
    purge(timedelta(days=30))
    assert [e.action for e in db.session.scalars(select(TimelineEntry))] == ["account.token"]
    assert db.session.scalars(select(Treatment)).all() == []


def test_task_and_workflow_actions_are_recorded(
    app: Flask, client: FlaskClient, user: User, processing_api: Any
) -> None:
    headers = _bearer(_token(app, user))
    started = json_body(
        client.post(
            "/api/v1/tasks/", json={"name": "slow", "inputs": {"steps": 5}}, headers=headers
        )
    )
    client.post(f"/api/v1/tasks/{started['id']}/cancel", headers=headers)
    client.delete(f"/api/v1/tasks/{started['id']}", headers=headers)
    document_set = make_set(user)
    workflow = json_body(
        client.post(
            "/api/v1/workflows/",
            json={"definition": "full-analysis", "document_set": document_set.id},
            headers=headers,
        )
    )
    client.post(f"/api/v1/workflows/{workflow['id']}/cancel", headers=headers)
    saved = client.post(
        "/api/v1/workflows/definitions",
        json={"name": "Mine", "steps": [{"name": "r", "task": "regions", "parameters": {}}]},
        headers=headers,
    )
    key = json_body(saved)["key"]
    client.delete(f"/api/v1/workflows/definitions/{key}", headers=headers)
    actions = [entry[0] for entry in _entries() if not entry[0].startswith("account.")]
    assert actions[:3] == ["task.start", "task.cancel", "task.delete"]
    assert actions[3] == "workflow.run"
    assert "workflow.cancel" in actions
    assert actions[-2:] == ["workflow.save", "workflow.delete"]
    assert {entry[1] for entry in _entries()} == {user.email}
