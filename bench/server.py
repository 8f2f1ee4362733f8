"""The app served for a benchmark as the Procfile serves it: gunicorn with gevent workers."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer")


def workers_cpu(server: subprocess.Popen[bytes]) -> dict[str, float]:
    """The CPU seconds each of gunicorn's workers has used so far, by process id, read from
    Linux's /proc."""
    used = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(fields[1]) == server.pid:
            ticks = int(fields[11]) + int(fields[12])
            used[stat.parent.name] = ticks / os.sysconf("SC_CLK_TCK")
    return used


@contextmanager
def served(
    app: str, port: int, env: dict[str, str], workers: int, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn serving `app` on 127.0.0.1:`port` until the block ends."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:webapp.serving",
            "--worker-class",
            "gevent",
            "--workers",
            str(workers),
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_for(port, server)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()  # streams still open past gunicorn's graceful timeout
            server.wait()


def forget_keys(redis_url: str, *patterns: str) -> None:
    """Delete a run's own Redis keys."""
    redis = Redis.from_url(redis_url)
    for pattern in patterns:
        keys = list(redis.scan_iter(match=pattern, count=1000))
        if keys:
            redis.delete(*keys)


def session_cookie(base: str, email: str, password: str) -> str:
    """The Cookie header of a browser that logged in through the login form."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    session.post(
        f"{base}/login",
        data={"csrf_token": token[1], "email": email, "password": password},
        timeout=10,
        allow_redirects=False,
    )
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)
