"""A real HTTP server playing the processing API, and a sender of signed notifications."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer, URIPattern
from standardwebhooks import Webhook
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request, Response

from webapp.treatments.models import Treatment
from webapp.treatments.signing import notify_token

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"scriptorium test webhook secret!").decode()


MODELS = {
    "illustration_extraction": {"name": "Illustrations", "model": "ill.pt", "desc": "…"},
    "strokes": {"name": "Strokes", "model": "strokes", "desc": "…"},
    "fancy": {"name": "A fancy model", "model": "fancy.pt", "desc": "…"},
    "cosine": {"name": "Cosine", "model": "cosine", "desc": "…", "type": "algorithm"},
    "default": {"name": "Default features", "model": "hog", "desc": "…", "type": "feat_net"},
}


class ProcessingAPI:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.url = server.url_for("").rstrip("/")
        self.starts: list[dict[str, Any]] = []
        self.cancels: list[str] = []
        self.start_answer: tuple[int, dict[str, Any]] | None = None
        self.status_answer: tuple[int, dict[str, Any]] = (200, {"status": "PENDING"})
        self.cancel_status = 200
        # The tasks it runs: the others' models are a 404, as an API that lacks them answers.
        self.offered = {"regions", "similarity", "vectorization"}
        for route in ("regions", "similarity", "vectorization"):
            server.expect_request(f"/{route}/start", method="POST").respond_with_handler(
                self._start
            )
            server.expect_request(f"/{route}/models").respond_with_handler(self._models)
        server.expect_request(uri=_Suffix("/cancel"), method="POST").respond_with_handler(
            self._cancel
        )
        server.expect_request(uri=_Suffix("/status")).respond_with_handler(self._status)

    def _start(self, request: Request) -> Response:
        payload = json.loads(request.get_data())
        self.starts.append(payload)
        status, body = self.start_answer or (
            200,
            {"tracking_id": f"trk-{len(self.starts)}", "experiment_id": payload["experiment_id"]},
        )
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _models(self, request: Request) -> Response:
        if request.path.split("/")[1] not in self.offered:
            return Response(json.dumps({"error": "Not found"}), status=404)
        return Response(json.dumps(MODELS), content_type="application/json")

    def _cancel(self, request: Request) -> Response:
        self.cancels.append(request.path)
        body = {"message": "cancelled"} if self.cancel_status < 400 else {"error": "Too late"}
        return Response(
            json.dumps(body), status=self.cancel_status, content_type="application/json"
        )

    def _status(self, request: Request) -> Response:
        status, body = self.status_answer
        return Response(json.dumps(body), status=status, content_type="application/json")

    def serve(
        self, path: str, content: bytes | str | Any, content_type: str = "application/json"
    ) -> str:
        """Serve a result file; returns its URL."""
        data = content if isinstance(content, bytes | str) else json.dumps(content)
        self.server.expect_request(path).respond_with_data(data, content_type=content_type)
        return f"{self.url}{path}"


class _Suffix(URIPattern):
    """Any path that ends so."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def match(self, uri: str) -> bool:
        return uri.endswith(self.suffix)


def signed_headers(
    body: str, msg_id: str | None = None, when: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = when or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign(msg_id, when, body),
    }


def notify(
    client: FlaskClient,
    treatment: Treatment,
    event: str,
    *,
    sign: bool = True,
    token: bool = False,
    msg_id: str | None = None,
    **fields: Any,
) -> TestResponse:
    """POST a notification for a treatment, as the processing API would."""
    body = json.dumps(
        {
            "event": event,
            "tracking_id": treatment.tracking_id,
            "experiment_id": treatment.id,
            **fields,
        }
    )
    headers = signed_headers(body, msg_id) if sign else {}
    query = f"?token={notify_token(treatment.id)}" if token else ""
    return client.post(
        f"/{treatment.task_type}/notify{query}",
        data=body,
        headers=headers,
        content_type="application/json",
    )
