"""Scriptorium as real processes: the Procfile's processes under honcho, on a real Redis, each
test run in its own folder, database and ports; and a browser-less user who fills its forms."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests

from tests.processing_api import WEBHOOK_SECRET
from tests.provision import free_port
from webapp import ROOT
from webapp.launcher import demo_private_hosts, procfile_command

BIN = Path(sys.executable).parent


class _Fields(HTMLParser):
    """The values a browser would submit from the first form on a page, as first rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name", "")
        if tag == "input" and name and attributes.get("type") not in {"submit", "button"}:
            if attributes.get("type") != "checkbox" or "checked" in attributes:
                self.fields[name] = attributes.get("value", "y")
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None


def form_fields(html: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(html)
    return parser.fields


class Stack:
    """The web app and the reference processor, started from the Procfile with honcho."""

    PROCESSES = ("web", "worker", "processor", "processor-worker", "processor-clock")

    def __init__(self, folder: Path, redis_url: str, **settings: str) -> None:
        self.folder = folder
        self.port, self.processor_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = folder / "scriptorium.db"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "STORAGE_DIR": str(folder / "storage"),
            "PROCESSOR_DATA_DIR": str(folder / "processor"),
            "SECRET_KEY": "live-test-secret",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "API_TOKEN": "live-test-api-token",
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "APP_URL": self.url,
            "API_URL": f"http://127.0.0.1:{self.processor_port}",
            "PROCESSOR_PORT": str(self.processor_port),
            "ALLOWED_PRIVATE_HOSTS": demo_private_hosts(
                self.url, f"http://127.0.0.1:{self.processor_port}"
            ),
            "WEB_CONCURRENCY": "1",
            "PROCESSOR_CONCURRENCY": "1",
            "OUTBOX_POLL_SECONDS": "0.1",
            **settings,
        }
        self.log_path = folder / "processes.log"
        self.process: subprocess.Popen[bytes] | None = None

    def flask(self, *arguments: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, processes: tuple[str, ...] = PROCESSES) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                procfile_command(self.port, *processes),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for url in (f"{self.url}/healthz", f"{self.env['API_URL']}/healthz"):
            self.wait_for(lambda url=url: _answers(url), f"{url} to answer", 120)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def wait_for(self, condition: Any, what: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the processes stopped while waiting for {what}\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.log()}")
            time.sleep(0.5)

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        return query(self.database, sql, *parameters)


def query(database: Path, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(sql, parameters).fetchall()


def log_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    fields = form_fields(session.get(f"{base}/login", timeout=10).text)
    fields |= {"email": email, "password": password}
    response = session.post(f"{base}/login", data=fields, timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text[:2000]
    return session


def demo_set_id(session: requests.Session, base: str) -> int:
    sets = session.get(f"{base}/sets/", timeout=10).text
    found = re.search(r'href="/sets/(\d+)"[^>]*>Demo set', sets)
    assert found is not None, sets[:3000]
    return int(found[1])


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def launch(session: requests.Session, base: str, set_id: int, task: str, **fields: str) -> str:
    """Fill the treatment form as a user would, keeping its defaults; the new treatment's id."""
    form = session.get(
        f"{base}/treatments/new",
        params={"document_set": str(set_id), "task_type": task},
        timeout=30,
    )
    data = form_fields(form.text) | fields | {"submit": "Launch"}
    response = session.post(f"{base}/treatments/new", data=data, timeout=30, allow_redirects=False)
    assert response.status_code == 302, response.text[-3000:]
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
