"""The services a test run needs: PostgreSQL and Redis, found or started, never silently absent."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from webapp.redis_server import redis_answers, start_redis

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class ServiceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class Started:
    """A server this run started, and stops when it ends."""

    url: str
    process: subprocess.Popen[bytes]
    workdir: Path | None = None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_postgres() -> Started:
    """A private PostgreSQL from the system's binaries, in a temporary folder of its own."""
    initdb, postgres = _pg_binary("initdb"), _pg_binary("postgres")
    if not initdb or not postgres:
        raise ServiceUnavailable(
            "No PostgreSQL answers and none is installed: set TEST_POSTGRES_URL, or install "
            "PostgreSQL (apt-get install postgresql)."
        )
    workdir = Path(tempfile.mkdtemp(prefix="scriptorium-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        shutil.chown(workdir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = workdir / "data"
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            *prefix,
            postgres,
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(workdir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = Started(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", process, workdir)
    for _ in range(100):
        if postgres_answers(started.url):
            return started
        time.sleep(0.1)
    started.stop()
    raise ServiceUnavailable("The PostgreSQL started for the tests did not answer.")


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_server() -> tuple[str, Started | None]:
    """TEST_POSTGRES_URL, which must answer; else the machine's default; else one started here."""
    named = os.environ.get("TEST_POSTGRES_URL")
    if named:
        if not postgres_answers(named):
            raise ServiceUnavailable(f"TEST_POSTGRES_URL={named} does not answer.")
        return named, None
    default = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if postgres_answers(default):
        return default, None
    started = start_postgres()
    return started.url, started


def redis_server(workdir: Path) -> tuple[str, Started | None]:
    """TEST_REDIS_URL, which must answer; else the default Redis; else one started here."""
    named = os.environ.get("TEST_REDIS_URL")
    if named:
        if not redis_answers(named):
            raise ServiceUnavailable(f"TEST_REDIS_URL={named} does not answer.")
        return named, None
    if redis_answers(DEFAULT_REDIS):
        return DEFAULT_REDIS, None
    url = f"redis://127.0.0.1:{free_port()}/0"
    return url, Started(url, start_redis(url, workdir))
