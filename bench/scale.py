"""Scale out, measured: what twice the workers buy.

Runs the whole stack as the Procfile runs it (honcho: web, worker, clock, processor,
processor-worker, processor-clock) on one PostgreSQL and one Redis of the run's own, first
with one web worker and one processor worker, then with two of each, and pushes the same
regions treatments of the demo corpus through each: launched through the form as a user
would, all at once, until every one has ended. Prints treatments per minute for each and the
ratio of two workers to one.

    python -m bench.scale [--treatments 40] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from bench.faults import TERMINAL, fault_stack
from tests.live_stack import demo_set_id, launch, log_in
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

# The clocks as deployed, not as the fault suite runs them (polling many times a second).
DEPLOYED = {
    "CLOCK_INTERVAL_SECONDS": "15",
    "DISPATCH_GRACE_SECONDS": "60",
    "OUTBOX_POLL_SECONDS": "0.25",
    "OUTBOX_FIRST_DELAY_SECONDS": "2",
    "PROCESSOR_SWEEP_SECONDS": "15",
}


@dataclass
class Run:
    workers: int
    treatments: int
    seconds: float
    ended: dict[str, int]

    @property
    def per_minute(self) -> float:
        return self.treatments / self.seconds * 60


def run(workers: int, treatments: int) -> Run:
    concurrency = {"worker": workers, "processor-worker": workers}
    with fault_stack(
        quick=False, concurrency=concurrency, proxied=False, settings=DEPLOYED
    ) as stack:
        session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
        set_id = demo_set_id(session, stack.url)
        started = time.monotonic()
        ids = [launch(session, stack.url, set_id, "regions") for _ in range(treatments)]
        deadline = started + 3600
        while time.monotonic() < deadline:
            statuses = stack.statuses(ids)
            if len(statuses) == len(ids) and set(statuses.values()) <= TERMINAL:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"treatments still running after an hour: {statuses}")
        seconds = time.monotonic() - started
    ended = {status: list(statuses.values()).count(status) for status in sorted(TERMINAL)}
    return Run(workers, treatments, seconds, ended)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--treatments", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    treatments = 1 if args.quick else args.treatments
    runs = [run(workers, treatments) for workers in (1, 2)]
    print(
        f"{treatments} regions treatments of the demo corpus, launched at once; the Procfile's "
        "processes on PostgreSQL"
    )
    print(f"{'web + processor workers':>24} {'seconds':>8} {'per minute':>11}  ended")
    for r in runs:
        print(
            f"{f'{r.workers} + {r.workers}':>24} {r.seconds:>8.1f} {r.per_minute:>11.1f}  {r.ended}"
        )
    one, two = runs
    print(
        f"treatments per minute, 2 + 2 workers / 1 + 1: {two.per_minute / one.per_minute:.2f} "
        "(aim: at least 1.70)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
