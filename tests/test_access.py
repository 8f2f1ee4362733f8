"""Walk every route: anonymous users reach only public ones; other users never see private work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import AuthActions
from tests.factories import make_digitization, make_series, make_witness, make_work
from webapp.auth.models import User
from webapp.callbacks.models import CallbackDelivery
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db
from webapp.flows.models import FlowRecord
from webapp.task_modules.vectorization.models import Vectorization
from webapp.tasks.models import Task, TaskArtifact
from webapp.treatments.models import Treatment
from webapp.workflows.models import Workflow, WorkflowDefinition

PUBLIC = {
    "auth.login",
    "health.healthz",
    "metrics.metrics",  # its own bearer token, not a session
    "iiif.manifest",
    "iiif.manifest_v3",
    "iiif.image_base",
    "iiif.image_info",
    "iiif.image",
    "notifications.notify",
    "regions.crop_list",
    "regions.manifest",
    "regions.manifest_3",
    "regions.annotation_list",
    "regions.annotation_page",
    "api-docs.openapi_json",
    "api_reference.reference",
}
PRIVATE_ARGUMENTS = {
    "set_id",
    "treatment_id",
    "vectorization_id",
    "task_id",
    "delivery_id",
    "workflow_id",
    "definition_key",
    "flow_id",
}
SECRET = "Top secret set 7f3a"


@dataclass
class Fixture:
    values: dict[str, str]
    kinds: dict[str, str]


@pytest.fixture
def owned(app: Flask, user: User) -> Fixture:
    work = make_work(user)
    witness = make_witness(user, series_id=make_series(user).id)
    witness.works.append(work)
    digitization = make_digitization(witness, pages=1)
    document_set = DocumentSet(title=SECRET, owner_id=user.id, witnesses=[witness])
    db.session.add(document_set)
    db.session.flush()
    treatment = Treatment(
        task_type="regions",
        owner_id=user.id,
        document_set_id=document_set.id,
        document_set_title=SECRET,
        documents=[],
        parameters={},
    )
    db.session.add(treatment)
    db.session.flush()
    vectorization = Vectorization(
        treatment_id=treatment.id, crop_id="c", svg=f"<svg>{SECRET}</svg>"
    )
    db.session.add(vectorization)
    task = Task(name="sum", owner_id=user.id, inputs={"numbers": [1]}, message=SECRET)
    db.session.add(task)
    db.session.flush()
    artifact = TaskArtifact(task_id=task.id, kind="text", name="secret", text=SECRET)
    db.session.add(artifact)
    treatment.callback_url = f"https://receiver.example.org/{SECRET}"
    delivery = CallbackDelivery(
        treatment_id=treatment.id, url=treatment.callback_url, webhook_id="msg_1", body=SECRET
    )
    db.session.add(delivery)
    workflow = Workflow(owner_id=user.id, name=SECRET, steps=[], document_set_id=document_set.id)
    db.session.add(workflow)
    definition = WorkflowDefinition(name=SECRET, owner_id=user.id, steps=[])
    db.session.add(definition)
    flow = FlowRecord(name="merge_witnesses", user_id=user.id, data={"secret": SECRET})
    db.session.add(flow)
    db.session.commit()
    return Fixture(
        values={
            "set_id": str(document_set.id),
            "digitization_id": str(digitization.id),
            "ref": digitization.ref,
            "page_ref": digitization.pages[0].ref,
            "region": "full",
            "size": "max",
            "rotation": "0",
            "quality": "default",
            "fmt": "jpg",
            "treatment_id": treatment.id,
            "task": "regions",
            "order": "1",
            "queue": "default",
            "job_id": "job",
            "action": "requeue",
            "user_id": str(user.id),
            "vectorization_id": str(vectorization.id),
            "token_id": "1",
            "witness_id": str(witness.id),
            "task_id": task.id,
            "artifact_id": str(artifact.id),
            "member_id": str(witness.id),
            "delivery_id": str(delivery.id),
            "workflow_id": workflow.id,
            "definition_key": str(definition.id),
            "flow_id": flow.id,
        },
        kinds={
            "witnesses": str(witness.id),
            "series": str(witness.series_id),
            "works": str(witness.works[0].id),
        },
    )


def _urls(app: Flask, owned: Fixture) -> Iterator[tuple[Rule, str, str]]:
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    for rule in rules:
        if rule.endpoint == "static":
            continue
        kinds = owned.kinds.items() if "kind" in rule.arguments else [("", "")]
        for kind, entry_id in kinds:
            values = dict(owned.values, kind=kind, entry_id=entry_id or owned.kinds["witnesses"])
            unknown = rule.arguments - values.keys()
            assert not unknown, f"teach this test the arguments {unknown} of {rule.rule}"
            built = rule.build({name: values[name] for name in rule.arguments})
            assert built is not None
            url = built[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method, url


def test_anonymous_users_reach_only_public_routes(
    app: Flask, client: FlaskClient, owned: Fixture
) -> None:
    for rule, method, url in _urls(app, owned):
        with client.open(url, method=method) as response:
            body = response.get_data()
        if rule.endpoint in PUBLIC:
            assert response.status_code < 500, url
            continue
        if rule.rule.startswith("/api/"):
            # The API sends no one to a login page: it asks for a token.
            assert response.status_code == 401, f"{method} {url}"
            assert SECRET.encode() not in body
            continue
        assert response.status_code == 302, f"{method} {url}"
        assert response.headers["Location"].startswith("/login"), url
        json = client.open(url, method=method, headers={"Accept": "application/json"})
        assert json.status_code == 401, f"{method} {url}"
        assert SECRET.encode() not in body


def test_other_users_never_see_private_work(
    app: Flask, client: FlaskClient, auth: AuthActions, owned: Fixture, other_user: User
) -> None:
    auth.login(other_user)
    for rule, method, url in _urls(app, owned):
        with client.open(url, method=method) as response:
            body = response.get_data()
        assert response.status_code < 500, f"{method} {url}"
        assert SECRET.encode() not in body, f"{method} {url}"
        if PRIVATE_ARGUMENTS & rule.arguments:
            # The API checks a request's body before anything else: a 400 says nothing of
            # the set, the same for every id.
            empty_body = rule.rule.startswith("/api/") and response.status_code == 400
            assert response.status_code == 404 or empty_body, f"{method} {url}"
        if rule.endpoint in {
            "catalog.edit",
            "catalog.delete",
            "catalog.delete_digitization",
            "catalog.merge",
            "catalog.move_digitization",
        }:
            assert response.status_code == 403, f"{method} {url}"
    assert db.session.get(DocumentSet, int(owned.values["set_id"])) is not None


def test_the_admin_area_does_not_exist_for_anyone_else(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    owned: Fixture,
    other_user: User,
) -> None:
    auth.login(other_user)
    walked = 0
    for rule, method, url in _urls(app, owned):
        if rule.endpoint.startswith("admin."):
            walked += 1
            assert client.open(url, method=method).status_code == 404, f"{method} {url}"
    assert walked >= 8
    page = client.get("/treatments/").get_data(as_text=True)
    assert "/admin/" not in page
