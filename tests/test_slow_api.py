"""A slow or hanging processing API never slows a page."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import json_body
from tests.hanging_server import HangingServer
from webapp.auth.models import User
from webapp.treatments.clock import note_api_health


def test_the_models_list_of_a_hanging_api_is_asked_once_then_the_fallback_is_used(
    app: Flask, client: FlaskClient, logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MODELS_TIMEOUT", 0.3)
    with HangingServer() as api:
        monkeypatch.setitem(app.config, "API_URL", api.url)
        for _ in range(3):
            page = client.get("/treatments/subform?task_type=regions")
            assert page.status_code == 200
            assert "Illustrations and diagrams (default)" in page.get_data(as_text=True)
        assert api.connections == 1  # one short try; the failure is remembered


def test_healthz_makes_no_call_to_the_api_and_reports_the_clocks_last_check(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HangingServer() as api:
        monkeypatch.setitem(app.config, "API_URL", api.url)
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
        assert api.connections == 0
        with app.app_context():
            note_api_health()  # the clock's look: one call
        assert api.connections == 1
        assert json_body(client.get("/healthz"))["checks"]["processing_api"] == "does not answer"
        assert api.connections == 1
