"""From a notification to the browser: how long a watching user waits to see it.

Runs the Procfile's web and worker processes (one worker) on PostgreSQL and a Redis of the
run's own, with 50 treatments running at once and a browser-like client watching each one's
live stream. Each treatment gets signed PROGRESS notifications, as the processing API sends
them (one every second or so, at random moments); each goes the whole real path: notify,
record, apply job, publish, stream. Measured: from the moment the notify request is
answered to the arrival of the fragment that shows that progress. Then, on the same streams,
the stream leg alone: an update published straight to the live channel, to its arrival.

    python -m bench.live_latency [--treatments 50] [--notifications 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg
import requests
from redis.asyncio import Redis as AsyncRedis
from standardwebhooks import Webhook

from bench.database import add_treatments, libpq, postgres_database
from bench.server import ROOT, free_port, session_cookie
from webapp.launcher import procfile_command
from webapp.redis_server import start_redis

SECRET = "whsec_" + "YmVuY2htYXJrIHdlYmhvb2sgc2VjcmV0IGtleSEh"
EMAIL, PASSWORD = "watcher@example.org", "bench-password-1"
TOTAL = 1000  # the progress total every notification reports
SHOWN = re.compile(rb"reports (\d+) of 1000")
BIN = Path(sys.executable).parent
SENDER_PROCESSES = 2


@dataclass
class Watch:
    """When each treatment's progress was answered for and when it was seen."""

    answered: dict[tuple[str, int], float] = field(default_factory=dict)
    seen: dict[tuple[str, int], float] = field(default_factory=dict)
    highest: dict[str, int] = field(default_factory=dict)
    connected: int = 0

    def saw(self, treatment_id: str, value: int, when: float) -> None:
        # A job that applies several events at once shows only the last: it shows them all.
        for n in range(self.highest.get(treatment_id, 0) + 1, value + 1):
            self.seen[(treatment_id, n)] = when
        self.highest[treatment_id] = max(value, self.highest.get(treatment_id, 0))

    def latencies(self, keys: list[tuple[str, int]]) -> list[float]:
        return sorted(
            max(0.0, self.seen[key] - self.answered[key]) * 1000
            for key in keys
            if key in self.seen and key in self.answered
        )


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def _signed(treatment_id: str, current: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event": "PROGRESS",
            "tracking_id": "bench",
            "experiment_id": treatment_id,
            "progress": {"current": current, "total": TOTAL},
        }
    )
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return body.encode(), {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
        "Content-Type": "application/json",
    }


def _send(
    port: int, treatment_id: str, count: int, every: float, answered: dict[tuple[str, int], float]
) -> None:
    """One treatment's notifications, as the processing API sends them."""
    rng = random.Random(treatment_id)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    time.sleep(rng.uniform(0, every))
    for n in range(1, count + 1):
        body, headers = _signed(treatment_id, n)
        status = 0
        for _ in range(2):  # the server closes a connection idle for long: open another
            try:
                connection.request("POST", "/regions/notify", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                break
            except (http.client.HTTPException, OSError):
                connection.close()
        answered[(treatment_id, n)] = time.time() if status == 200 else float("nan")
        time.sleep(rng.uniform(0.5, 1.5) * every)
    connection.close()


def _senders(port: int, ids: list[str], count: int, every: float, out: Connection) -> None:
    """A process of senders, apart from the watching one: its threads must not delay the
    reading of the streams, which would be counted as latency."""
    answered: dict[tuple[str, int], float] = {}
    threads = [threading.Thread(target=_send, args=(port, i, count, every, answered)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send(answered)
    out.close()


async def _stream(port: int, treatment_id: str, cookie: str, watch: Watch) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    writer.write(
        f"GET /treatments/{treatment_id}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    tail, connected = b"", False
    try:
        while chunk := await reader.read(65536):
            now = time.time()
            if not connected and b"event: state" in chunk:
                connected = True
                watch.connected += 1
            data = tail + chunk
            for match in SHOWN.finditer(data):
                watch.saw(treatment_id, int(match[1]), now)
            tail = data[-64:]
    finally:
        writer.close()


async def _measure(
    port: int, redis_url: str, prefix: str, ids: list[str], owner: int, count: int, every: float
) -> tuple[Watch, list[tuple[str, int]], list[tuple[str, int]], list[tuple[str, int]]]:
    cookie = session_cookie(f"http://127.0.0.1:{port}", EMAIL, PASSWORD)
    watch = Watch()
    streams = [asyncio.create_task(_stream(port, i, cookie, watch)) for i in ids]
    while watch.connected < len(ids):
        await asyncio.sleep(0.05)
    pipes, senders = [], []
    for part in range(SENDER_PROCESSES):
        receiver, sender = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.Process(
            target=_senders, args=(port, ids[part::SENDER_PROCESSES], count, every, sender)
        )
        process.start()
        pipes.append(receiver)
        senders.append(process)
    while any(
        process.is_alive() and not pipe.poll()
        for process, pipe in zip(senders, pipes, strict=False)
    ):
        await asyncio.sleep(0.1)
    for pipe, process in zip(pipes, senders, strict=True):
        watch.answered.update(pipe.recv())
        process.join()
    errors = [key for key, when in watch.answered.items() if when != when]  # NaN: refused
    notified = [(i, n) for i in ids for n in range(1, count + 1)]
    await _settle(watch, notified)
    # The stream leg alone: the same streams, an update published as the worker publishes.
    publisher = AsyncRedis.from_url(redis_url)
    published = []
    for treatment_id in ids:
        value = count + 1
        html = f"<p>the processing API reports {value} of {TOTAL}</p>"
        message = {
            "treatment_id": treatment_id,
            "owner_id": owner,
            "terminal": False,
            "html": {"state": html, "events": "", "row": ""},
        }
        watch.answered[(treatment_id, value)] = time.time()
        await publisher.publish(f"{prefix}:live", json.dumps(message))
        published.append((treatment_id, value))
        await asyncio.sleep(0.02)
    await _settle(watch, published)
    await publisher.aclose()
    for stream in streams:
        stream.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    return watch, notified, published, errors


async def _settle(watch: Watch, keys: list[tuple[str, int]]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(key in watch.seen for key in keys):
        await asyncio.sleep(0.1)


def _flask(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the stack exited")
        with suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--treatments", type=int, default=50)
    parser.add_argument("--notifications", type=int, default=10, help="per treatment")
    parser.add_argument(
        "--every", type=float, default=1.0, help="mean seconds between a treatment's notifications"
    )
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    count = 2 if args.quick else args.notifications
    treatments = 10 if args.quick else args.treatments
    run = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="live-latency-"))
    port, redis_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    prefix = f"latency{run}"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "REDIS_PREFIX": prefix,
        "WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "bench",
        "STORAGE_DIR": str(folder / "storage"),
        "APP_URL": f"http://127.0.0.1:{port}",
        "LIVE_STREAMS_PER_USER": "100000",
        "LIVE_STREAM_SECONDS": "3600",
    }
    redis = start_redis(redis_url, folder / "redis")
    stack: subprocess.Popen[bytes] | None = None
    try:
        with postgres_database(env) as url:
            env["DATABASE_URL"] = url
            _flask(env, "users", "create", EMAIL, "--password", PASSWORD)
            with psycopg.connect(libpq(url)) as conn:
                owner = conn.execute("SELECT id FROM users").fetchone()
            assert owner is not None
            ids = add_treatments(url, owner[0], treatments, tracking_id="bench")
            with (folder / "stack.log").open("ab") as log:
                stack = subprocess.Popen(
                    procfile_command(port, "web", "worker"),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            _wait_for(f"http://127.0.0.1:{port}/healthz", stack)
            watch, notified, published, errors = asyncio.run(
                _measure(port, redis_url, prefix, ids, owner[0], count, args.every)
            )
            os.killpg(stack.pid, signal.SIGTERM)
            stack.wait(timeout=60)
    finally:
        if stack is not None and stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
        redis.kill()
        redis.wait()
        shutil.rmtree(folder, ignore_errors=True)
    full, leg = watch.latencies(notified), watch.latencies(published)
    print(
        f"{treatments} treatments watched live, {count} notifications each, one every "
        f"{args.every:g} s or so ({treatments / args.every:.0f}/s in all), the Procfile's "
        "web and one worker, PostgreSQL"
    )
    print(f"{'path':34} {'seen':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for name, values, keys in (
        ("notify answered -> fragment", full, notified),
        ("published -> fragment (stream leg)", leg, published),
    ):
        print(
            f"{name:34} {len(values):>4}/{len(keys):<4} {percentile(values, 0.5):>7.1f} "
            f"{percentile(values, 0.99):>7.1f} {max(values, default=float('nan')):>7.1f}"
        )
    if errors:
        print(f"notifications refused: {len(errors)}")
    print(
        f"notify -> browser p99 / stream leg p99: "
        f"{percentile(full, 0.99) / max(percentile(leg, 0.99), 0.01):.1f} "
        f"(p50 {percentile(full, 0.5):.0f} ms, p99 {percentile(full, 0.99):.0f} ms; "
        "aim: p50 under 100 ms, p99 under 500 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
