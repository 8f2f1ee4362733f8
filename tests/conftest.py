"""Shared fixtures: one app per database backend, clean tables and storage for every test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

# Every key and channel of this run carries its own prefix; RQ reads it when imported.
RUN_ID = uuid.uuid4().hex[:10]
os.environ["RQ_KEY_PREFIX"] = f"rqtest{RUN_ID}"
os.environ["REDIS_PREFIX"] = f"test{RUN_ID}"

import pytest  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import Envelope  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from pytest_httpserver import HTTPServer  # noqa: E402
from redis import Redis  # noqa: E402
from rq.worker import SimpleWorker  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from processor.app import create_app as create_processor_app  # noqa: E402
from processor.models import db as processor_db  # noqa: E402
from processor.work import queue as processor_queue  # noqa: E402
from tests import provision  # noqa: E402
from tests.listener import Listener  # noqa: E402
from tests.processing_api import WEBHOOK_SECRET, ProcessingAPI  # noqa: E402
from tests.processor_harness import Processor  # noqa: E402
from tests.sample_tasks import SAMPLES  # noqa: E402
from webapp import ROOT, create_app  # noqa: E402
from webapp.auth.accounts import create_user  # noqa: E402
from webapp.auth.models import User  # noqa: E402
from webapp.extensions import db, get_queue, redis_client  # noqa: E402
from webapp.jobs import AppContextJob  # noqa: E402
from webapp.live.hub import Hub  # noqa: E402
from webapp.live.streams import hub  # noqa: E402
from webapp.rate_limits import reset_rate_limits  # noqa: E402
from webapp.tasks.registry import BUILT_IN  # noqa: E402

PASSWORD = "correct horse battery"


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def body(self, index: int = 0, kind: str = "plain") -> str:
        part = self.messages[index].get_body((kind,))
        assert part is not None, f"no {kind} part"
        return str(part.get_content())


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free port."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=provision.free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    smtp[0].messages.clear()
    return smtp[0]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, started = provision.redis_server(tmp_path_factory.mktemp("redis"))
    yield url
    client = Redis.from_url(url)
    for pattern in (f"rqtest{RUN_ID}*", f"test{RUN_ID}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    if started is not None:
        started.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url, started = provision.postgres_server()
    yield url
    if started is not None:
        started.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"scriptorium_test_{RUN_ID}"
    url = provision.create_database(server, name)
    yield url
    provision.drop_database(server, name)


def make_test_app(database_url: str, redis_url: str, storage: Path, **extra: object) -> Flask:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "STORAGE_DIR": str(storage),
        "WTF_CSRF_ENABLED": False,
        "APP_URL": "http://localhost",
        # The tests' own servers listen on localhost; no other private host is reached.
        "ALLOWED_PRIVATE_HOSTS": ["localhost"],
        "IMPORT_TIMEOUT": 5.0,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "LAUNCH_RETRY_DELAYS": [0.0, 0.0],
        "API_TIMEOUT": 5.0,
        "MAIL_SUPPRESS_SEND": False,
        # Streams end soon, so that a test reading one to its end does not wait.
        "LIVE_STREAM_SECONDS": 1.0,
        "LIVE_HEARTBEAT_SECONDS": 0.3,
        "BACKGROUND_TASKS": [*BUILT_IN, *SAMPLES],
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def app(
    database_url: str,
    redis_url: str,
    smtp: tuple[Mailbox, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Flask]:
    """The schema is built once per backend, by the migrations themselves."""
    application = make_test_app(
        database_url,
        redis_url,
        tmp_path_factory.mktemp("storage"),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp[1],
    )
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    reset_rate_limits()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    get_queue().delete(delete_jobs=True)
    shutil.rmtree(app.config["STORAGE_DIR"], ignore_errors=True)


@pytest.fixture
def backend(app: Flask) -> str:
    return str(db.engine.dialect.name)


def make_user(email: str, *, admin: bool = False, name: str = "") -> User:
    return create_user(email, PASSWORD, name=name, is_admin=admin)


@pytest.fixture
def user(app: Flask) -> User:
    return make_user("ada@example.org", name="Ada")


@pytest.fixture
def other_user(app: Flask) -> User:
    return make_user("bob@example.org", name="Bob")


@pytest.fixture
def admin(app: Flask) -> User:
    return make_user("root@example.org", admin=True, name="Admin")


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD) -> None:
        email = user if isinstance(user, str) else user.email
        response = self.client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)

    def logout(self) -> None:
        self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def logged_in(auth: AuthActions, user: User) -> User:
    auth.login(user)
    return user


def json_body(response: TestResponse) -> Any:
    """The JSON of a response that must have some."""
    body = response.get_json(silent=True)
    assert body is not None, response.get_data(as_text=True)[:500]
    return body


def run_jobs() -> None:
    """Run every queued job now, in this process, inside the test's app context."""
    SimpleWorker([get_queue()], connection=redis_client(), job_class=AppContextJob).work(burst=True)


@pytest.fixture
def processing_api(
    app: Flask, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> ProcessingAPI:
    api = ProcessingAPI(httpserver)
    monkeypatch.setitem(app.config, "API_URL", api.url)
    monkeypatch.setitem(app.config, "RESULT_HOSTS", ["localhost"])
    return api


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback server no request of the system may reach."""
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def processor_app(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    data = tmp_path_factory.mktemp("processor")
    return create_processor_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'processor.db'}",
            "DATA_DIR": str(data),
            "REDIS_URL": redis_url,
            "API_URL": "http://processor.test",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ALLOWED_PRIVATE_HOSTS": ["localhost"],
            "FETCH_TIMEOUT": 5.0,
            "FETCH_RETRY_SECONDS": 3.5,
            "OUTBOX_FIRST_DELAY": 0.05,
            "OUTBOX_MAX_DELAY": 0.2,
        }
    )


@pytest.fixture
def processor(processor_app: Flask, httpserver: HTTPServer) -> Iterator[Processor]:
    """The processor, with a clean database, queue and data folder."""
    with processor_app.app_context():
        rq_queue = processor_queue()
        yield Processor(processor_app, httpserver)
        processor_db.session.remove()
        with processor_db.engine.begin() as conn:
            for table in reversed(processor_db.metadata.sorted_tables):
                conn.execute(table.delete())
        rq_queue.delete(delete_jobs=True)
        for folder in ("results", "images"):
            shutil.rmtree(Path(processor_app.config["DATA_DIR"]) / folder, ignore_errors=True)


@pytest.fixture
def listening_hub(app: Flask) -> Hub:
    live_hub = hub()
    subscriber = live_hub.subscribe(lambda _: False)
    assert live_hub.listening.wait(5), "the hub never subscribed"
    live_hub.unsubscribe(subscriber)
    return live_hub


@pytest.fixture
def long_streams(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams that outlast the work a test does while one is open, however loaded the
    machine: they end with the work, not by their clock."""
    monkeypatch.setitem(app.config, "LIVE_STREAM_SECONDS", 60.0)
