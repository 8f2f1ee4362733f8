"""Live-stream fan-out: many browsers watching one treatment on one web process.

Serves the app as the Procfile does (gunicorn, one gevent worker) and opens 100, 500 and 1000
concurrent Server-Sent Event streams on /treatments/<id>/stream while 100 updates are published
at 20 per second. Prints, per level: the share of updates delivered to every watcher, p50 and
p99 from publish to receipt, the server's memory per open stream and its Redis connections;
next to a bare Redis pub/sub subscriber measuring the same updates in the same run, and the
time an ordinary page takes while the streams are open.

    python -m bench.sse_fanout [--watchers 100,500,1000] [--updates 100] [--rate 20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bench.server import forget_keys, free_port, served, session_cookie

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MARK = re.compile(rb'data-n="(\d+)"')
PASSWORD = "bench-password-1"  # noqa: S105 - an account made for the run


@dataclass
class Level:
    watchers: int
    updates: int
    received: dict[int, list[float]] = field(default_factory=dict)
    baseline: dict[int, float] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    memory_per_stream_kb: float = 0.0
    redis_clients_added: int = 0
    connect_seconds: float = 0.0
    page_ms: list[float] = field(default_factory=list)

    def delivered(self) -> float:
        return sum(len(times) for times in self.received.values()) / (self.watchers * self.updates)

    def latencies(self) -> list[float]:
        return sorted(
            (t - self.sent[n]) * 1000 for n, times in self.received.items() for t in times
        )

    def baseline_latencies(self) -> list[float]:
        return sorted((t - self.sent[n]) * 1000 for n, t in self.baseline.items())


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def _flask(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _prepare(folder: Path, env: dict[str, str]) -> tuple[str, int]:
    _flask(env, "db", "upgrade")
    _flask(env, "users", "create", "watcher@example.org", "--password", PASSWORD)
    treatment_id = str(uuid.uuid4())
    with sqlite3.connect(folder / "bench.db") as db:
        (user_id,) = db.execute("SELECT id FROM users").fetchone()
        db.execute(
            "INSERT INTO treatments (id, task_type, owner_id, document_set_title, parameters,"
            " documents, done_documents, document_errors, notify_email, status, attempts,"
            " message, error, requested_at, updated_at) VALUES (?, 'regions', ?, 'bench',"
            " '{}', '[]', '[]', '[]', 0, 'IN_PROGRESS', 0, '', '', datetime('now'),"
            " datetime('now'))",
            (treatment_id, user_id),
        )
    return treatment_id, int(user_id)


def _worker_rss_kb(master: int) -> int:
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            total += int(found[1]) if found else 0
    return total


def _page_times(port: int, cookie: str, count: int = 20) -> list[float]:
    """An ordinary page while the streams are open: are they starving requests?"""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        requests.get(
            f"http://127.0.0.1:{port}/treatments/", headers={"Cookie": cookie}, timeout=30
        ).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def _redis_clients(redis: Redis) -> int:
    info: Any = redis.info("clients")
    return int(info["connected_clients"])


async def _watch(
    port: int, path: str, cookie: str, level: Level, ready: asyncio.Event, count: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    connected = False
    tail = b""
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            now = time.time()
            if not connected and b"event: state" in chunk:
                connected = True
                count[0] += 1
                if count[0] == level.watchers:
                    ready.set()
            data = tail + chunk
            for match in MARK.finditer(data):
                level.received.setdefault(int(match[1]), []).append(now)
            tail = data[-64:] if not MARK.search(data[-64:]) else b""
    finally:
        writer.close()


async def _baseline(redis_url: str, channel: str, level: Level, ready: asyncio.Event) -> None:
    client = AsyncRedis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    ready.set()
    async for message in pubsub.listen():
        now = time.time()
        found = MARK.search(json.loads(message["data"])["html"]["state"].encode())
        if found:
            level.baseline[int(found[1])] = now
            if int(found[1]) == level.updates - 1:
                break
    await pubsub.aclose()
    await client.aclose()


async def _run_level(
    level: Level,
    port: int,
    treatment_id: str,
    user_id: int,
    cookie: str,
    channel: str,
    master: int,
    rate: float,
) -> None:
    redis = Redis.from_url(REDIS)
    publisher = AsyncRedis.from_url(REDIS)
    rss_before, clients_before = _worker_rss_kb(master), _redis_clients(redis)
    ready, count = asyncio.Event(), [0]
    started = time.perf_counter()
    watchers = [
        asyncio.create_task(
            _watch(port, f"/treatments/{treatment_id}/stream", cookie, level, ready, count)
        )
        for _ in range(level.watchers)
    ]
    await asyncio.wait_for(ready.wait(), timeout=120)
    level.connect_seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    level.memory_per_stream_kb = (_worker_rss_kb(master) - rss_before) / level.watchers
    level.redis_clients_added = _redis_clients(redis) - clients_before
    level.page_ms = await asyncio.to_thread(_page_times, port, cookie)
    baseline_ready = asyncio.Event()
    baseline = asyncio.create_task(_baseline(REDIS, channel, level, baseline_ready))
    await baseline_ready.wait()
    for n in range(level.updates):
        html = f'<div class="state" data-n="{n}">update {n}</div>'
        message = {
            "treatment_id": treatment_id,
            "owner_id": user_id,
            "terminal": False,
            "html": {"state": html, "events": "", "row": ""},
        }
        level.sent[n] = time.time()
        await publisher.publish(channel, json.dumps(message))
        await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and level.delivered() < 1.0:
        await asyncio.sleep(0.1)
    await asyncio.wait_for(baseline, timeout=10)
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    await publisher.aclose()
    await asyncio.sleep(1.0)  # the server notices the closed streams


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", default="100,500,1000")
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    levels = [int(n) for n in ("20" if args.quick else args.watchers).split(",")]
    updates = 10 if args.quick else args.updates

    run = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="sse-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "STORAGE_DIR": str(folder / "storage"),
        "REDIS_URL": REDIS,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_PREFIX": f"ssebench{run}",
        "RQ_KEY_PREFIX": f"rqssebench{run}",
        "SECRET_KEY": "bench",
        "LIVE_STREAM_SECONDS": "3600",
        # One account watches with every client here: a fan-out, not one person's tabs.
        "LIVE_STREAMS_PER_USER": "100000",
    }
    treatment_id, user_id = _prepare(folder, env)
    base = f"http://127.0.0.1:{port}"
    options = ("--worker-connections", "2000")
    results = []
    try:
        with served("wsgi:app", port, env, 1, *options) as server:
            cookie = session_cookie(base, "watcher@example.org", PASSWORD)
            channel = f"ssebench{run}:live"
            for watchers in levels:
                level = Level(watchers, updates)
                asyncio.run(
                    _run_level(
                        level, port, treatment_id, user_id, cookie, channel, server.pid, args.rate
                    )
                )
                results.append(level)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        forget_keys(REDIS, f"ssebench{run}*", f"rqssebench{run}*")
    print(f"{updates} updates at {args.rate:g}/s to N watchers of one treatment, one web process")
    print(
        f"{'watchers':>8} {'delivered':>9} {'p50 ms':>7} {'p99 ms':>7} {'base p50':>8} "
        f"{'base p99':>8} {'KB/stream':>9} {'+redis conns':>12} {'connect s':>9} "
        f"{'page p50 ms':>11}"
    )
    for level in results:
        lat, base_lat = level.latencies(), level.baseline_latencies()
        print(
            f"{level.watchers:>8} {level.delivered():>9.3f} {percentile(lat, 0.5):>7.1f} "
            f"{percentile(lat, 0.99):>7.1f} {percentile(base_lat, 0.5):>8.2f} "
            f"{percentile(base_lat, 0.99):>8.2f} {level.memory_per_stream_kb:>9.1f} "
            f"{level.redis_clients_added:>12} {level.connect_seconds:>9.1f} "
            f"{percentile(level.page_ms, 0.5):>11.1f}"
        )
    last = results[-1]
    ratio = percentile(last.latencies(), 0.99) / max(
        percentile(last.baseline_latencies(), 0.99), 0.01
    )
    print(f"p99 at {last.watchers} watchers / bare subscriber p99: {ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
