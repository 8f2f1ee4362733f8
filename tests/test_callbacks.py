"""Callbacks: the ending of work started with a `callback_url` is POSTed there once, signed
with its owner's secret, tried again while the receiver is down, given up when it refuses
for good, listed on the work's page and the API, and sent again on request."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook
from werkzeug import Request, Response

from tests.concurrency import race
from tests.conftest import AuthActions, json_body, run_jobs
from tests.processing_api import ProcessingAPI
from tests.test_api import _bearer, _token
from tests.treatment_helpers import make_set
from webapp.auth.models import User
from webapp.callbacks.models import CallbackDelivery
from webapp.callbacks.outbox import deliver_callback, dispatch_callbacks
from webapp.extensions import db, get_queue
from webapp.tasks.runner import run_task


class Receiver:
    """A receiver of callbacks on the test HTTP server, answering `statuses` in turn (then
    200), keeping what it was sent."""

    def __init__(self, httpserver: HTTPServer, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], str]] = []
        self.url = httpserver.url_for("/hook")
        httpserver.expect_request("/hook", method="POST").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        self.received.append((dict(request.headers), request.get_data(as_text=True)))
        return Response("", status=self.statuses.pop(0) if self.statuses else 200)

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Each body received, once its signature is checked."""
        return [
            Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
            for headers, body in self.received
        ]


def _secret(client: FlaskClient, token: str) -> str:
    secret = json_body(client.get("/api/v1/callbacks/secret", headers=_bearer(token)))["secret"]
    assert secret.startswith("whsec_")
    return str(secret)


def test_a_treatments_ending_is_posted_once_signed_with_its_owners_secret(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    user: User,
    processing_api: ProcessingAPI,
    httpserver: HTTPServer,
) -> None:
    receiver = Receiver(httpserver)
    token = _token(app, user)
    headers = _bearer(token)
    document_set = make_set(user)
    created = client.post(
        "/api/v1/treatments/",
        json={"document_set": document_set.id, "task": "regions", "callback_url": receiver.url},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    treatment = json_body(created)
    assert treatment["callback_url"] == receiver.url
    run_jobs()
    assert receiver.received == []  # nothing is said before the end
    client.post(f"/api/v1/treatments/{treatment['id']}/cancel", headers=headers)
    run_jobs()
    [summary] = receiver.verified(_secret(client, token))
    assert summary["type"] == "treatment.ended"
    data = summary["data"]
    assert (data["id"], data["kind"], data["status"]) == (treatment["id"], "treatment", "CANCELLED")
    assert data["counts"] == {"documents": 2, "done": 0, "total": 2, "failed_documents": 0}
    assert data["links"]["page"].endswith(f"/treatments/{treatment['id']}")
    assert data["links"]["api"].endswith(f"/api/v1/treatments/{treatment['id']}")
    # Delivered once: neither the clock nor a second job sends it again.
    delivery_id = db.session.scalars(db.select(CallbackDelivery.id)).one()
    assert dispatch_callbacks() == 0
    deliver_callback(delivery_id)
    run_jobs()
    assert len(receiver.received) == 1
    [listed] = json_body(
        client.get(f"/api/v1/treatments/{treatment['id']}/callbacks", headers=headers)
    )
    assert (listed["state"], listed["attempts"], listed["last_status"]) == ("delivered", 1, 200)
    # What the owner sees after a reload.
    auth.login(user)
    page = client.get(f"/treatments/{treatment['id']}").get_data(as_text=True)
    assert 'id="callbacks"' in page
    assert "Delivered" in page


def test_a_receiver_that_is_down_is_tried_again_later_with_the_same_id(
    app: Flask,
    client: FlaskClient,
    user: User,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = Receiver(httpserver, 503, 503)
    token = _token(app, user)
    started = client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [1, 2]}, "callback_url": receiver.url},
        headers=_bearer(token),
    )
    assert started.status_code == 201, started.get_data(as_text=True)
    task_id = json_body(started)["id"]
    run_jobs()
    delivery = db.session.scalars(db.select(CallbackDelivery)).one()
    assert (delivery.attempts, delivery.last_status, delivery.state) == (1, 503, "waiting")
    # Not before its time: the first retry waits CALLBACK_FIRST_DELAY_SECONDS, then doubles.
    assert dispatch_callbacks() == 0
    assert (delivery.due_at - delivery.created_at).total_seconds() >= 30
    monkeypatch.setitem(app.config, "CALLBACK_FIRST_DELAY_SECONDS", 0)
    delivery.due_at = delivery.created_at
    db.session.commit()
    assert dispatch_callbacks() == 1
    run_jobs()
    assert dispatch_callbacks() == 1  # answered 503 again: due at once with no delay
    run_jobs()
    db.session.refresh(delivery)
    assert (delivery.attempts, delivery.state) == (3, "delivered")
    bodies = receiver.verified(_secret(client, token))
    assert len(bodies) == 3
    assert len({headers["Webhook-Id"] for headers, _body in receiver.received}) == 1
    assert bodies[-1]["data"] == {
        "id": task_id,
        "kind": "task",
        "status": "SUCCESS",
        "message": bodies[-1]["data"]["message"],
        "counts": {"current": bodies[-1]["data"]["counts"]["current"], "target": 2},
        "links": bodies[-1]["data"]["links"],
    }


def test_a_refusal_for_good_is_given_up_shown_and_can_be_sent_again(
    app: Flask, client: FlaskClient, auth: AuthActions, user: User, httpserver: HTTPServer
) -> None:
    receiver = Receiver(httpserver, 410)
    token = _token(app, user)
    started = client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [3]}, "callback_url": receiver.url},
        headers=_bearer(token),
    )
    task_id = json_body(started)["id"]
    run_jobs()
    delivery = db.session.scalars(db.select(CallbackDelivery)).one()
    assert (delivery.state, delivery.attempts) == ("given up", 1)
    assert "HTTP 410" in delivery.last_error
    assert dispatch_callbacks() == 0
    auth.login(user)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Given up" in page
    assert "HTTP 410" in page
    resent = client.post(f"/callbacks/{delivery.id}/resend")
    assert resent.status_code == 302
    run_jobs()
    deliveries = json_body(client.get(f"/api/v1/tasks/{task_id}/callbacks"))
    assert [(d["state"], d["resent"]) for d in deliveries] == [
        ("delivered", True),
        ("given up", False),
    ]
    assert deliveries[0]["webhook_id"] == deliveries[1]["webhook_id"]
    assert len(receiver.received) == 2


def test_a_new_secret_signs_the_next_callbacks(
    app: Flask, client: FlaskClient, auth: AuthActions, user: User, httpserver: HTTPServer
) -> None:
    receiver = Receiver(httpserver)
    token = _token(app, user)
    old = _secret(client, token)
    new = json_body(client.post("/api/v1/callbacks/secret", headers=_bearer(token)))["secret"]
    assert new != old
    assert _secret(client, token) == new
    client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [3]}, "callback_url": receiver.url},
        headers=_bearer(token),
    )
    run_jobs()
    assert len(receiver.verified(new)) == 1
    with pytest.raises(Exception, match="signature"):
        receiver.verified(old)
    auth.login(user)
    assert new in client.get("/account/password").get_data(as_text=True)
    client.post("/account/callback-secret")
    db.session.refresh(user)
    assert user.webhook_secret not in {old, new}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/hook", "Not a valid URL."),
        ("not a url", "Not a valid URL."),
        ("http://[::1", "Not a valid URL."),
        ("http://[::1]:99999/hook", "The port is not one from 1 to 65535."),
        ("http://example.org:port/hook", "Not a valid URL."),
        ("http://10.0.0.8/hook", "Callbacks are not sent to this address."),
        ("http://[::1]:8080/hook", "Callbacks are not sent to this address."),
        ("https://example.org/" + "x" * 2000, "Longer than maximum length 2000."),
    ],
)
def test_a_callback_url_that_cannot_be_used_is_refused_with_its_reason(
    app: Flask, client: FlaskClient, user: User, url: str, message: str
) -> None:
    response = client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [3]}, "callback_url": url},
        headers=_bearer(_token(app, user)),
    )
    assert response.status_code == 400
    assert json_body(response)["fields"]["callback_url"] == [message]
    assert db.session.scalars(db.select(CallbackDelivery)).all() == []


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ALLOWED_PRIVATE_HOSTS", [])
    client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [3]}, "callback_url": "http://localhost:9/x"},
        headers=_bearer(_token(app, user)),
    )
    run_jobs()
    delivery = db.session.scalars(db.select(CallbackDelivery)).one()
    assert delivery.state == "given up"
    assert "only public http(s) addresses" in delivery.last_error
    assert json.loads(delivery.body)["data"]["status"] == "SUCCESS"


def test_two_jobs_sending_one_callback_at_once_deliver_it_once(
    app: Flask, client: FlaskClient, user: User, httpserver: HTTPServer
) -> None:
    receiver = Receiver(httpserver)
    client.post(
        "/api/v1/tasks/",
        json={"name": "sum", "inputs": {"numbers": [3]}, "callback_url": receiver.url},
        headers=_bearer(_token(app, user)),
    )
    listed = json_body(client.get("/api/v1/tasks/", headers=_bearer(_token(app, user))))
    get_queue().delete(delete_jobs=True)  # the task's run only: the callback is the racers'
    run_task(listed["items"][0]["id"])
    get_queue().delete(delete_jobs=True)
    delivery_id = db.session.scalars(db.select(CallbackDelivery.id)).one()
    race(app, *[partial(deliver_callback, delivery_id)] * 4)
    assert len(receiver.received) == 1
    delivery = db.session.get(CallbackDelivery, delivery_id)
    assert delivery is not None
    db.session.refresh(delivery)
    assert (delivery.state, delivery.attempts) == ("delivered", 1)
