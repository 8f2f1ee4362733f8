from __future__ import annotations

from pathlib import Path

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import json_body, make_test_app
from tests.provision import free_port
from webapp.config import load_config
from webapp.extensions import db
from webapp.redis_server import redis_answers, start_redis
from webapp.security import public


def test_configuration_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ["DATABASE_URL", "SECRET_KEY", "RESULT_HOSTS", "APP_URL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("API_URL", "http://api.example.org:8000/")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'scriptorium.db'}"
    assert config["API_URL"] == "http://api.example.org:8000"
    assert config["RESULT_HOSTS"] == ["api.example.org:8000"]
    assert config["SESSION_COOKIE_SECURE"] is False
    # A development secret key is generated once and kept.
    assert (tmp_path / "secret_key").read_text() == config["SECRET_KEY"]
    assert load_config(tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]

    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("RESULT_HOSTS", "a.example, b.example")
    monkeypatch.setenv("APP_URL", "https://scriptorium.example")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/scriptorium")
    config = load_config(tmp_path)
    assert config["SECRET_KEY"] == "from-env"
    assert config["RESULT_HOSTS"] == ["a.example", "b.example"]
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/scriptorium"


def test_healthz_reports_each_service(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = json_body(response)["checks"]
    assert (checks["database"], checks["redis"]) == ("ok", "ok")
    assert {"workers", "clock", "processing_api"} <= set(checks)


def test_healthz_says_when_redis_is_down(database_url: str, tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app: Flask = make_test_app(database_url, dead, tmp_path, RATELIMIT_STORAGE_URI="memory://")
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 503
    assert json_body(response)["checks"]["redis"].startswith("error")
    assert json_body(response)["checks"]["database"] == "ok"


def test_a_redis_is_started_where_none_answers(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not redis_answers(url)
    process = start_redis(url, tmp_path)
    try:
        assert redis_answers(url)
    finally:
        process.terminate()
        process.wait()


def test_unknown_pages_get_a_page_and_programs_get_json(client: FlaskClient) -> None:
    assert "404" in client.get("/nowhere").get_data(as_text=True)
    assert json_body(client.get("/nowhere", headers={"Accept": "application/json"})) == {
        "error": "Not Found",
        "message": "The requested URL was not found on the server. If you entered the URL "
        "manually please check your spelling and try again.",
    }


def test_behind_a_proxy_its_forwarded_scheme_and_host_are_trusted(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    app: Flask = make_test_app(database_url, redis_url, tmp_path, PROXY_COUNT=1)
    app.add_url_rule("/where", "where", public()(lambda: flask.url_for("where", _external=True)))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "scriptorium.example"}
    answer = app.test_client().get("/where", headers=headers).get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
    assert answer == "https://scriptorium.example/where"


def test_the_pool_is_sized_for_the_database_the_app_ends_up_with(app: Flask, backend: str) -> None:
    """Whatever DATABASE_URL says, the URI the app was given decides (tests give theirs)."""
    pool = db.engine.pool
    if backend == "postgresql":
        assert (pool.size(), pool._max_overflow) == (  # type: ignore[attr-defined]
            app.config["DATABASE_POOL_SIZE"],
            app.config["DATABASE_POOL_OVERFLOW"],
        )
    else:
        assert "pool_size" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
