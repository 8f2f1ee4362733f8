"""The task API under load: starts through `POST /api/v1/tasks`, the drain of the tasks
started, and a storm of concurrent starts where no task may be lost or stuck.

Serves the app as the Procfile does (gunicorn, gevent workers) and drains with the
Procfile's worker, and measures in the same run:
- starts/s and p50/p99 of `POST /api/v1/tasks` (a personal token, a no-op task) on
  PostgreSQL, next to the one-insert baseline (`/bench/row`: parse the body, insert a row)
  from the same server and senders: at saturation (each sender sends its next request when
  the last is answered), and paced at `--rate` starts/s offered whatever the answers'
  latency (an open loop: latencies run from when a request was due), which is what "so many
  starts a second with a p99 under so many ms" means — at saturation the p99 only grows with
  the number of senders; and how each paced phase's CPU split between the workers;
- the drain of those tasks by `rq worker --burst` with the Procfile's classes, per task,
  next to a plain RQ worker draining as many no-op jobs (per job, start-up left out);
- a storm: every sender starts its tasks at once, on SQLite and on PostgreSQL; then the
  tasks are drained and counted: each start answered 201 must be there and have succeeded.

    python -m bench.api [--senders 32] [--rate 300] [--seconds 10] [--storm 400] [--quick]
"""

from __future__ import annotations

import os
import uuid

# The run's own RQ keys, for this process too: RQ reads the prefix when imported.
RUN = uuid.uuid4().hex[:8]
os.environ["RQ_KEY_PREFIX"] = f"rqapibench{RUN}"

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.database import libpq, postgres_database  # noqa: E402
from bench.jobs import CLASSES, _drain_queue, _per_job, per_job  # noqa: E402
from bench.notify import Result, measure_batches  # noqa: E402
from bench.server import forget_keys, free_port, served, workers_cpu  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PROCFILE_WORKER = CLASSES["AppWorker + AppContextJob (Procfile)"]
MAX_RATE = 2000  # starts/s: enough requests are prepared for this rate
START = json.dumps({"name": "noop", "inputs": {}}).encode()


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _token(env: dict[str, str]) -> str:
    """A user of the run's own, and a token of theirs."""
    _flask(env, "users", "create", "bench@example.org", "--password", "bench-password-1")
    return _flask(env, "users", "token", "bench@example.org").strip().splitlines()[-1]


def _tasks(database_url: str) -> dict[str, str]:
    """Every task's status, by id."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM tasks")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def _drain(env: dict[str, str]) -> float:
    return _drain_queue(env, "default", PROCFILE_WORKER)


def _storm(port: int, token: str, senders: int, each: int) -> tuple[list[str], int]:
    """Every sender starts `each` tasks, all released at once: the ids answered 201, and how
    many starts were refused."""
    barrier = threading.Barrier(senders)
    accepted: list[str] = []
    refused: list[int] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        for _ in range(each):
            connection.request("POST", "/api/v1/tasks/", body=START, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status == 201:
                accepted.append(json.loads(body)["id"])
            else:
                refused.append(response.status)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted, len(refused)


@contextmanager
def _sqlite_database(env: dict[str, str]) -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="api-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    _flask({**env, "DATABASE_URL": url}, "db", "upgrade")
    yield url


def _storm_on(
    backend: str, env: dict[str, str], senders: int, each: int, workers: int
) -> dict[str, int]:
    database = postgres_database(env) if backend == "PostgreSQL" else _sqlite_database(env)
    port = free_port()
    with database as url:
        run_env = {**env, "DATABASE_URL": url}
        token = _token(run_env)
        with served("wsgi:app", port, run_env, workers):
            accepted, refused = _storm(port, token, senders, each)
        _drain(run_env)
        found = _tasks(url)
    return {
        "started": len(accepted),
        "refused": refused,
        "lost": sum(task_id not in found for task_id in accepted),
        "stuck": sum(found.get(task_id, "SUCCESS") != "SUCCESS" for task_id in accepted),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--rate", type=float, default=300.0, help="starts/s offered, paced")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--storm", type=int, default=400, help="tasks started in the storm")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile's)")
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    storm = 64 if args.quick else args.storm
    per_sender = int(seconds * MAX_RATE / args.senders) + 20

    env = {
        **os.environ,
        "REDIS_URL": REDIS,
        "REDIS_PREFIX": f"apibench{RUN}",
        "SECRET_KEY": "bench",
        "PYTHONPATH": str(ROOT),
        "STORAGE_DIR": tempfile.mkdtemp(prefix="api-bench-storage-"),
        "BACKGROUND_TASKS": "bench.noop_task:NoopTask",
        "API_TOKEN_RATE_LIMIT": "1000000 per minute",
    }
    results: list[Result] = []
    splits: dict[str, list[float]] = {}  # each paced phase's CPU, per web worker
    try:
        with postgres_database(env) as url:
            run_env = {**env, "DATABASE_URL": url}
            token = _token(run_env)
            with psycopg.connect(libpq(url), autocommit=True) as conn:
                conn.execute("CREATE TABLE bench_rows (id serial PRIMARY KEY, body text)")
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            batches = [[(START, headers)] * per_sender for _ in range(args.senders)]
            port = free_port()
            with served("bench.notify_app:app", port, run_env, args.workers) as server:
                measure_batches("warm-up", port, "/api/v1/tasks/", batches, 0.5)
                for name, path in (
                    ("parse + 1 insert (baseline)", "/bench/row"),
                    ("POST /api/v1/tasks", "/api/v1/tasks/"),
                ):
                    results.append(measure_batches(name, port, path, batches, seconds))
                    before = workers_cpu(server)
                    results.append(
                        measure_batches(
                            f"{name}, {args.rate:g}/s paced",
                            port,
                            path,
                            batches,
                            seconds,
                            rate=args.rate,
                        )
                    )
                    splits[name] = [
                        used - before.get(pid, 0.0) for pid, used in workers_cpu(server).items()
                    ]
            started = len(_tasks(url))
            many = _drain(run_env)
            with served("bench.notify_app:app", port, run_env, args.workers):
                measure_batches("one more", port, "/api/v1/tasks/", [[(START, headers)]], 5)
            one = _drain(run_env)
            statuses = _tasks(url)
            task_cost = _per_job(many, one, started)
            left = sum(status != "SUCCESS" for status in statuses.values())
        rq_cost = per_job(env, CLASSES["RQ worker, RQ job (baseline)"], min(started, 2000))
        storms = {
            backend: _storm_on(
                backend, env, args.senders, max(1, storm // args.senders), args.workers
            )
            for backend in ("SQLite", "PostgreSQL")
        }
    finally:
        forget_keys(REDIS, f"apibench{RUN}*", f"rqapibench{RUN}*")

    print(f"{args.senders} senders, {args.workers} gevent workers, PostgreSQL, {seconds:g} s each")
    print(f"{'endpoint':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in results:
        print(
            f"{result.name:42} {result.rate:8.0f} {result.percentile(0.5):8.1f} "
            f"{result.percentile(0.99):8.1f} {result.failures:7d}"
        )
    print(
        f"drain of {started} no-op tasks, Procfile worker: {task_cost * 1000:.2f} ms per task "
        f"({1 / task_cost:.0f}/s), {left} not succeeded; plain RQ no-op job: "
        f"{rq_cost * 1000:.2f} ms ({1 / rq_cost:.0f}/s)"
    )
    for backend, counts in storms.items():
        print(
            f"storm on {backend}: {counts['started']} started, {counts['refused']} refused, "
            f"{counts['lost']} lost, {counts['stuck']} stuck"
        )
    # A keep-alive connection stays with the worker that accepted it: an uneven split of the
    # senders' connections loads one worker more, and the paced p99 follows the busier one.
    for name, split in splits.items():
        shares = " / ".join(f"{100 * used / (sum(split) or 1):.0f} %" for used in split)
        print(f"{name}, paced: the workers' shares of the CPU they used: {shares}")
    baseline, _baseline_paced, starts, paced = results
    print(
        f"task starts / one-insert baseline at saturation: {starts.rate / baseline.rate:.2f} "
        f"({starts.rate:.0f}/s); paced at {args.rate:g}/s: {paced.rate:.0f}/s answered, "
        f"p99 {paced.percentile(0.99):.0f} ms (aim ≥ 300/s with p99 < 100 ms); "
        f"drain / RQ: {rq_cost / task_cost:.2f} (aim ≥ 0.8)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
