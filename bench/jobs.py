"""What a job costs the web app's worker beyond what RQ costs.

Drains no-op jobs with real `rq worker --burst` processes, as the Procfile runs them:
- RQ's own worker and job classes (the baseline);
- the Procfile's worker (`AppWorker`, which builds the app before it forks, and
  `AppContextJob`);
- the job class alone, as the worker ran before (the app built in every forked work horse).

Each worker drains N jobs, then 1: the difference over N - 1 is the cost of one job, its
start-up left out. Prints ms per job and the ratio of the Procfile's to the baseline's.

    python -m bench.jobs [--jobs 200] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from redis import Redis
from rq import Queue

from bench.server import forget_keys

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


def noop() -> None:
    """A job that does nothing: what is measured is what surrounds it."""


def _drain(env: dict[str, str], queue_name: str, options: list[str], count: int) -> float:
    redis = Redis.from_url(REDIS)
    queue = Queue(queue_name, connection=redis)
    for _ in range(count):
        # Kept no longer than it runs: the run leaves no job behind in Redis.
        queue.enqueue("bench.jobs.noop", result_ttl=0)
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
    queue.delete()
    return seconds


def per_job(env: dict[str, str], options: list[str], count: int) -> float:
    """Seconds one job costs, the worker's start-up left out."""
    queue_name = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    many = _drain(env, queue_name, options, count)
    one = _drain(env, queue_name, options, 1)
    return max(many - one, 0.0) / (count - 1)


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
