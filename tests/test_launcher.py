"""`flask up` fails loudly: a port taken stops it before it starts, a process that dies stops
the rest and the command exits non-zero with its last lines, Ctrl-C stops everything (the
Redis it started included) with no traceback, also when its output goes to a pipe."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.provision import free_port
from webapp import ROOT
from webapp.redis_server import redis_answers


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    """A stack of its own: free ports, a database and a storage folder in the test's folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "SECRET_KEY", "RQ_", "REDIS", "PORT", "MAIL_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'up.db'}",
        STORAGE_DIR=str(tmp_path / "storage"),
        SECRET_KEY="launcher-test",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        REDIS_PREFIX=f"up{os.getpid()}",
        MAIL_PORT=str(free_port()),
        API_URL=f"http://127.0.0.1:{free_port()}",
        PORT=str(free_port()),
        PYTHONPATH=str(ROOT),
    )
    return env


def _up(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "up", "--no-demo", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("which", ["PORT", "MAIL_PORT", "API_URL"])
def test_a_port_taken_is_named_before_anything_starts(
    stack_env: dict[str, str], taken: int, tmp_path: Path, which: str
) -> None:
    stack_env[which] = f"http://127.0.0.1:{taken}" if which == "API_URL" else str(taken)
    process = _up(stack_env, tmp_path / "up.log")
    assert process.wait(60) == 1
    said = (tmp_path / "up.log").read_text()
    assert f"Port {taken} on 127.0.0.1 is taken" in said
    assert {"PORT": "PORT or --port", "MAIL_PORT": "MAIL_PORT", "API_URL": "API_URL"}[which] in said
    assert "Traceback" not in said
    assert "starting at" not in said  # nothing was started
    assert not redis_answers(stack_env["REDIS_URL"])


def test_a_process_that_dies_stops_the_rest_and_says_why(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    stack_env["PROCESSOR_CONCURRENCY"] = "many"  # its gunicorn refuses it and exits at once
    process = _up(stack_env, tmp_path / "up.log")
    try:
        code = process.wait(120)
    finally:
        if process.poll() is None:
            process.kill()
    said = (tmp_path / "up.log").read_text()
    assert code != 0, said[-3000:]
    assert "processor.1 stopped, and every other process with it. Its last lines:" in said
    assert "invalid int value: 'many'" in said.split("Its last lines:")[-1]
    for port in (stack_env["PORT"], stack_env["MAIL_PORT"], stack_env["API_URL"].rsplit(":")[-1]):
        assert _port_free(int(port)), f"{port} still held"
    assert not redis_answers(stack_env["REDIS_URL"]), "the Redis it started must stop with it"


def test_ctrl_c_stops_everything_quietly_even_when_the_output_is_piped(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    # Its output goes to a pipe whose reader goes away, as `flask up | tee log` with Ctrl-C.
    reader, writer = os.pipe()
    errors = tmp_path / "stderr.log"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "up", "--no-demo"],
            cwd=ROOT, env=stack_env, stdout=writer, stderr=stderr,
        )  # fmt: skip
    os.close(writer)
    base = f"http://127.0.0.1:{stack_env['PORT']}"
    seen = b""
    try:
        os.set_blocking(reader, False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, errors.read_text()[-3000:]
            with contextlib.suppress(BlockingIOError):
                seen += os.read(reader, 65536)
            try:
                if requests.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            pytest.fail(f"never answered: {seen[-2000:]!r}")
        assert redis_answers(stack_env["REDIS_URL"])
        os.close(reader)  # the reader is gone: every later write breaks the pipe
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    said = errors.read_text()
    assert "Traceback" not in said, said[-3000:]
    assert "BrokenPipeError" not in said
    for port in (stack_env["PORT"], stack_env["MAIL_PORT"], stack_env["API_URL"].rsplit(":")[-1]):
        assert _port_free(int(port)), f"{port} still held"
    assert not redis_answers(stack_env["REDIS_URL"]), "the Redis it started must stop with it"
