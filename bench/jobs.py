"""What a job costs the web app's worker beyond what RQ costs.

Drains no-op jobs with real `rq worker --burst` processes, as the Procfile runs them:
- RQ's own worker and job classes (the baseline);
- the Procfile's worker (`AppWorker`, which builds the app before it forks its work horse,
  and hands that horse job after job, and `AppContextJob`);
- the job class alone, as the worker ran before (the app built in every forked work horse).

Each worker drains N jobs, then 1: the difference over N - 1 is the cost of one job, its
start-up left out. Then the Procfile's worker drains real work the same way: launches of
regions treatments (POSTed to a local stand-in of the processing API) and the application of
one signed PROGRESS notification per treatment. Prints ms per job, each drain's rate against
the no-op drain's, and the ratio of the Procfile's per-job cost to the baseline's.

    python -m bench.jobs [--jobs 200] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue

from bench.server import forget_keys, free_port

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BIN = Path(sys.executable).parent

CLASSES = {
    "RQ worker, RQ job (baseline)": [],
    "AppWorker + AppContextJob (Procfile)": [
        "--worker-class",
        "webapp.worker.AppWorker",
        "--job-class",
        "webapp.jobs.AppContextJob",
    ],
    "AppContextJob alone (before)": ["--job-class", "webapp.jobs.AppContextJob"],
}


def _drain(env: dict[str, str], queue_name: str, options: list[str], count: int) -> float:
    redis = Redis.from_url(REDIS)
    queue = Queue(queue_name, connection=redis)
    for _ in range(count):
        # Kept no longer than it runs: the run leaves no job behind in Redis.
        queue.enqueue("bench.noop.noop", result_ttl=0)
    seconds = _drain_queue(env, queue_name, options)
    queue.delete()
    return seconds


def _drain_queue(env: dict[str, str], queue_name: str, options: list[str]) -> float:
    """Seconds a burst worker takes to empty the queue, its start included."""
    queue = Queue(queue_name, connection=Redis.from_url(REDIS))
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "rq"), "worker", "--burst", "--url", REDIS, *options, queue_name],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=900,
    )
    seconds = time.perf_counter() - started
    assert queue.count == 0, "the worker left jobs behind"
    return seconds


def per_job(env: dict[str, str], options: list[str], count: int) -> float:
    """Seconds one job costs, the worker's start-up left out."""
    queue_name = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    many = _drain(env, queue_name, options, count)
    one = _drain(env, queue_name, options, 1)
    return _per_job(many, one, count)


def _per_job(many: float, one: float, count: int) -> float:
    # A start-up slower by chance than the jobs it spares can make the difference vanish.
    return max(many - one, 1e-4) / (count - 1)


class _StandInAPI(BaseHTTPRequestHandler):
    """Accepts every start, as a processing API that has room would."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(
            {"tracking_id": f"trk-{uuid.uuid4().hex}", "experiment_id": payload["experiment_id"]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _real_work(env: dict[str, str], count: int) -> dict[str, float]:
    """Per-job seconds of launches and of notification applies, through the Procfile worker."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.demo.seed import seed_demo
    from webapp.extensions import db
    from webapp.task_modules.registry import task_module
    from webapp.treatments.models import Treatment
    from webapp.treatments.service import create_treatment
    from webapp.treatments.signing import notify_token

    api = ThreadingHTTPServer(("127.0.0.1", free_port()), _StandInAPI)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{api.server_address[1]}"
    env = {**env, "API_URL": api_url}
    app = create_app(
        {
            "API_URL": api_url,
            "REDIS_URL": env["REDIS_URL"],
            "REDIS_PREFIX": env["REDIS_PREFIX"],
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "STORAGE_DIR": env["STORAGE_DIR"],
            "SECRET_KEY": env["SECRET_KEY"],
        }
    )
    options = CLASSES["AppWorker + AppContextJob (Procfile)"]
    costs: dict[str, float] = {}
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        report = seed_demo(pages_per_witness=1)
        document_set = report.document_set
        module = task_module("regions")
        client = app.test_client()

        def launches(n: int) -> float:
            for _ in range(n):
                create_treatment(report.user, document_set, module, {}, notify_email=False)
            return _drain_queue(env, "default", options)

        def applies(n: int) -> float:
            started = db.session.scalars(
                db.select(Treatment).where(Treatment.tracking_id.is_not(None)).limit(n)
            ).all()
            for treatment in started:
                body = {
                    "event": "PROGRESS",
                    "experiment_id": treatment.id,
                    "tracking_id": treatment.tracking_id,
                    "progress": {"current": 1, "total": 2},
                }
                client.post(f"/regions/notify?token={notify_token(treatment.id)}", json=body)
            return _drain_queue(env, "default", options)

        for name, work in (("launch", launches), ("notification apply", applies)):
            many, one = work(count), work(1)
            costs[name] = _per_job(many, one, count)
    api.shutdown()
    api.server_close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    args = parser.parse_args()
    count = 20 if args.quick else args.jobs
    run = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "STORAGE_DIR": str(folder / "storage"),
        "SECRET_KEY": "bench",
        "REDIS_URL": REDIS,
        "REDIS_PREFIX": f"jobsbench{run}",
    }
    try:
        costs = {}
        for name, options in CLASSES.items():
            # The old way costs an app's start-up per job: fewer of them tell as much.
            jobs = count if "before" not in name else max(5, count // 10)
            costs[name] = per_job(env, options, jobs)
            print(f"{name}: {costs[name] * 1000:.1f} ms per job ({jobs} jobs)", flush=True)
        noop_cost = costs["AppWorker + AppContextJob (Procfile)"]
        for name, cost in _real_work(env, count).items():
            print(
                f"{name} (Procfile worker): {cost * 1000:.1f} ms per job, drain rate "
                f"{noop_cost / cost:.2f}x the no-op drain",
                flush=True,
            )
    finally:
        forget_keys(REDIS, f"{env['REDIS_PREFIX']}*")
    baseline = costs["RQ worker, RQ job (baseline)"]
    ours = costs["AppWorker + AppContextJob (Procfile)"]
    before = costs["AppContextJob alone (before)"]
    print(
        f"per-job cost, Procfile worker / RQ baseline: {ours / baseline:.2f}x "
        f"(before: {before / baseline:.1f}x)"
    )


if __name__ == "__main__":
    main()
