"""The reference processor in a test: its app, a server of sources, a receiver of notifications,
and ways to run its jobs and deliver its outbox now."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask
from pytest_httpserver import HTTPServer
from rq.worker import SimpleWorker
from sqlalchemy import and_, func, select
from standardwebhooks import Webhook
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request, Response

from processor.models import OutboxMessage, db
from processor.outbox import Sender
from processor.work import queue
from tests.drawings import jpeg, page
from tests.processing_api import WEBHOOK_SECRET

PENDING = and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.given_up_at.is_(None))


class Processor:
    def __init__(self, app: Flask, server: HTTPServer) -> None:
        self.app = app
        self.client = app.test_client()
        self.server = server
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.attempts: list[dict[str, str]] = []
        # Statuses the receiver answers in turn before it answers 200.
        self.refusals: list[int] = []
        server.expect_request("/notify", method="POST").respond_with_handler(self._receive)

    @property
    def notify_url(self) -> str:
        return self.server.url_for("/notify")

    def _receive(self, request: Request) -> Response:
        headers = {key.lower(): value for key, value in request.headers.items()}
        self.attempts.append(headers)
        if self.refusals:
            return Response("not now", status=self.refusals.pop(0))
        Webhook(WEBHOOK_SECRET).verify(request.get_data(), headers)
        self.received.append((headers, json.loads(request.get_data())))
        return Response("{}", content_type="application/json")

    def events(self) -> list[str]:
        return [body["event"] for _, body in self.received]

    def serve(self, path: str, content: bytes | Any, content_type: str = "image/jpeg") -> str:
        if not isinstance(content, bytes):
            content, content_type = json.dumps(content).encode(), "application/json"
        self.server.expect_request(path).respond_with_data(content, content_type=content_type)
        return self.server.url_for(path)

    def serve_pages(self, uid: str, count: int, v3: bool = False, **drawing: Any) -> str:
        """A manifest of `count` drawn pages with plain image URLs; its URL."""
        canvases = []
        for number in range(1, count + 1):
            url = self.serve(f"/{uid}/{number}.jpg", jpeg(page(seed=number, **drawing)))
            canvases.append(url)
        if v3:
            manifest: dict[str, Any] = {
                "type": "Manifest",
                "items": [
                    {"items": [{"items": [{"body": {"id": url, "type": "Image"}}]}]}
                    for url in canvases
                ],
            }
        else:
            manifest = {
                "@type": "sc:Manifest",
                "sequences": [
                    {"canvases": [{"images": [{"resource": {"@id": url}}]} for url in canvases]}
                ],
            }
        return self.serve(f"/{uid}/manifest.json", manifest)

    def start(self, task: str, documents: list[dict[str, str]], **fields: Any) -> TestResponse:
        payload = {
            "experiment_id": fields.pop("experiment_id", f"exp-{time.monotonic_ns()}"),
            "notify_url": self.notify_url,
            "documents": documents,
            **fields,
        }
        return self.client.post(f"/{task}/start", json=payload)

    def started(self, task: str, documents: list[dict[str, str]], **fields: Any) -> str:
        response = self.start(task, documents, **fields)
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.get_json()["tracking_id"])

    def run_jobs(self) -> None:
        rq_queue = queue()
        SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)

    def deliver(self, timeout: float = 15.0) -> None:
        """Send until every message is delivered or given up."""
        sender = Sender()
        deadline = time.monotonic() + timeout
        try:
            while sender.step() or db.session.scalar(select(func.count()).where(PENDING)):
                assert time.monotonic() < deadline, "the outbox did not empty"
                time.sleep(0.01)
        finally:
            sender.close()

    def result(self, url: str) -> bytes:
        path = url.removeprefix(self.app.config["API_URL"])
        with self.client.get(path) as response:
            assert response.status_code == 200, (url, response.status_code)
            return response.get_data()
