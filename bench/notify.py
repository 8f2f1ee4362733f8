"""Notification intake under load: signed PROGRESS notifications from concurrent senders.

Serves the app as the Procfile does (gunicorn, gevent workers) on PostgreSQL, and measures in
the same server and the same run: /bench/verify (parse and verify only), /bench/insert (also
insert one row) and the real /regions/notify. Prints requests/s, p50 and p99 latencies and the
ratio of the notify endpoint's rate to the one-insert baseline's.

    python -m bench.notify [--senders 32] [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg
from standardwebhooks import Webhook

from bench.database import add_treatments, libpq, postgres_database
from bench.server import forget_keys, free_port, served

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + "YmVuY2htYXJrIHdlYmhvb2sgc2VjcmV0IGtleSEh"
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENT_PROCESSES = 4
MAX_RATE = 3000  # requests/s: enough signed requests are prepared for this rate


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def _prepare(url: str, count: int) -> list[str]:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_rows (id serial PRIMARY KEY, body text, "
            "received_at timestamptz DEFAULT now())"
        )
        user = conn.execute(
            "INSERT INTO users (email, name, password_hash, is_admin, active) "
            "VALUES ('bench@example.org', 'Bench', 'x', false, true) RETURNING id"
        ).fetchone()
        assert user is not None
    return add_treatments(url, user[0], count)


def _signed(treatment_id: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event": "PROGRESS",
            "tracking_id": "bench",
            "experiment_id": treatment_id,
            "progress": {"current": n, "total": 10**6},
            "output": {"results_url": []},
        }
    )
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
        "Content-Type": "application/json",
    }
    return body.encode(), headers


@dataclass(frozen=True)
class Pace:
    """When a paced sender's requests are due: the n-th at `first + n * interval` (wall-clock
    seconds, which every client process shares)."""

    first: float
    interval: float

    def due(self, n: int) -> float:
        return self.first + n * self.interval


def _sender(
    port: int,
    path: str,
    requests: list[tuple[bytes, dict[str, str]]],
    deadline: float,
    latencies: list[float],
    failures: list[int],
    pace: Pace | None = None,
) -> None:
    """Requests one after the other, or each when it is due if paced. A paced request's
    latency runs from when it was due, so that a server falling behind is not hidden by
    senders that wait for it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n, (body, headers) in enumerate(requests):
        if time.time() > deadline:
            break
        if pace is None:
            start = time.time()
        else:
            start = pace.due(n)
            time.sleep(max(0.0, start - time.time()))
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.time() - start)
        if not 200 <= response.status < 300:
            failures.append(response.status)
    connection.close()


def _sender_process(
    port: int,
    path: str,
    batches: list[list[tuple[bytes, dict[str, str]]]],
    deadline: float,
    paces: list[Pace | None],
    out: Connection,
) -> None:
    """One client process: its own threads, so that senders do not queue on one GIL."""
    latencies: list[float] = []
    failures: list[int] = []
    threads = [
        threading.Thread(
            target=_sender, args=(port, path, batch, deadline, latencies, failures, pace)
        )
        for batch, pace in zip(batches, paces, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send((latencies, len(failures)))
    out.close()


def measure(
    name: str,
    port: int,
    path: str,
    treatment_ids: list[str],
    senders: int,
    seconds: float,
    per_sender: int,
    processes: int = CLIENT_PROCESSES,
) -> Result:
    batches = [
        [_signed(treatment_ids[i % len(treatment_ids)], n) for n in range(per_sender)]
        for i in range(senders)
    ]
    return measure_batches(name, port, path, batches, seconds, processes)


def measure_batches(
    name: str,
    port: int,
    path: str,
    batches: list[list[tuple[bytes, dict[str, str]]]],
    seconds: float,
    processes: int = CLIENT_PROCESSES,
    rate: float = 0,
) -> Result:
    """Each batch sent by a sender of its own for `seconds`, from `processes` client
    processes: one request after the other, or, given a `rate`, paced so that the senders
    together offer that many requests a second whatever the answers' latency (an open loop)."""
    pipes = []
    workers = []
    start = time.time()
    # The client processes start in turn: paced ones begin together, once all have started.
    first = start + 0.2 * processes
    deadline = (first if rate else start) + seconds
    paces: list[Pace | None] = [
        Pace(first + k / rate, len(batches) / rate) if rate else None for k in range(len(batches))
    ]
    for index in range(processes):
        receiver, sender = multiprocessing.Pipe(duplex=False)
        worker = multiprocessing.Process(
            target=_sender_process,
            args=(
                port,
                path,
                batches[index::processes],
                deadline,
                paces[index::processes],
                sender,
            ),
        )
        worker.start()
        pipes.append(receiver)
        workers.append(worker)
    latencies: list[float] = []
    failures = 0
    for receiver, worker in zip(pipes, workers, strict=True):
        got, failed = receiver.recv()
        latencies += got
        failures += failed
        worker.join()
    elapsed = time.time() - (first if rate else start)
    return Result(name, len(latencies), elapsed, latencies, failures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile's)")
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    per_sender = int(seconds * MAX_RATE / args.senders) + 20

    run = uuid.uuid4().hex[:8]
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": REDIS,
        "REDIS_PREFIX": f"bench{run}",
        "RQ_KEY_PREFIX": f"rqbench{run}",
        "WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "bench",
        "PYTHONPATH": str(ROOT),
    }
    try:
        with postgres_database(env) as url:
            treatment_ids = _prepare(url, args.senders)
            with served("bench.notify_app:app", port, {**env, "DATABASE_URL": url}, args.workers):
                measure("warm-up", port, "/bench/insert", treatment_ids, args.senders, 0.5, 20)
                results = [
                    measure(name, port, path, treatment_ids, args.senders, seconds, per_sender)
                    for name, path in (
                        ("parse + verify (baseline)", "/bench/verify"),
                        ("parse + verify + 1 insert (baseline)", "/bench/insert"),
                        ("POST /regions/notify", "/regions/notify"),
                    )
                ]
    finally:
        forget_keys(REDIS, f"bench{run}*", f"rqbench{run}*")

    print(
        f"{args.senders} senders, {args.workers} gevent workers, PostgreSQL, "
        f"{seconds:g} s per endpoint"
    )
    print(f"{'endpoint':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in results:
        print(
            f"{result.name:40} {result.rate:8.0f} {result.percentile(0.5):8.1f} "
            f"{result.percentile(0.99):8.1f} {result.failures:7d}"
        )
    baseline, notify = results[1], results[2]
    print(
        f"notify / one-insert baseline: {notify.rate / baseline.rate:.2f} "
        f"(aim: at least 0.70, with p99 under 100 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
