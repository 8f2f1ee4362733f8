"""Full analysis as a workflow, next to the same three treatments run by hand.

Runs the whole stack as the Procfile runs it (honcho: web, worker, clock, processor,
processor-worker, processor-clock) on one PostgreSQL and one Redis of the run's own, with
`--workers` app and processor workers (two by default, as `bench.scale` scales them on a
two-core machine: one alone runs every job one after the other, and nothing could overlap),
and on the demo set, in the same run:
- by hand: regions through the form, then, once it has ended, vectorization on its regions,
  then, once that has ended, similarity on the same regions (each started the moment the
  previous one ended: a user who watches the page could not be quicker);
- as a workflow: "Full analysis" started once through the workflow form.
A regions treatment runs first, untimed, so that both find the processor's caches as warm.
Prints both times and their ratio.

    python -m bench.workflow [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import requests

from bench.faults import TERMINAL, FaultStack, fault_stack
from bench.scale import DEPLOYED
from tests.live_stack import demo_set_id, form_fields, launch, log_in
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 1800.0


def _until(ended: Callable[[], str | None]) -> str:
    """Poll until `ended` gives a terminal status; that status."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = ended()
        if status in TERMINAL:
            return status
        time.sleep(POLL_SECONDS)
    raise RuntimeError("still running after half an hour")


def _treatment(stack: FaultStack, treatment_id: str) -> Callable[[], str | None]:
    return lambda: stack.statuses([treatment_id]).get(treatment_id)


def by_hand(stack: FaultStack, session: requests.Session, set_id: int) -> tuple[float, list[str]]:
    """The three treatments one after the other: seconds, and how each ended."""
    started = time.monotonic()
    regions = launch(session, stack.url, set_id, "regions")
    ended = [_until(_treatment(stack, regions))]
    for task in ("vectorization", "similarity"):
        later = launch(session, stack.url, set_id, task, **{f"{task}-regions_treatment": regions})
        ended.append(_until(_treatment(stack, later)))
    return time.monotonic() - started, ended


def as_workflow(
    stack: FaultStack, session: requests.Session, set_id: int, timeline: bool = False
) -> tuple[float, list[str]]:
    """Full analysis through the workflow form: seconds, and how each step ended."""
    started = time.monotonic()
    page = session.get(f"{stack.url}/workflows/", timeout=30)
    fields = form_fields(page.text) | {"definition": "full-analysis", "document_set": str(set_id)}
    response = session.post(
        f"{stack.url}/workflows/", data=fields, timeout=30, allow_redirects=False
    )
    assert response.status_code == 302, response.text[-3000:]
    workflow_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def status() -> str | None:
        rows = stack.query("SELECT status FROM workflows WHERE id = :id", id=workflow_id)
        return rows[0].status if rows else None

    _until(status)
    seconds = time.monotonic() - started
    steps = stack.query(
        "SELECT status FROM treatments WHERE workflow_id = :id ORDER BY requested_at",
        id=workflow_id,
    )
    if timeline:
        _print_timeline(stack, workflow_id)
    return seconds, [row.status for row in steps]


def _print_timeline(stack: FaultStack, workflow_id: str) -> None:
    """When each step and part was asked for, started and ended, from the workflow's start."""
    rows = stack.query(
        "SELECT t.task_type, t.workflow_step, json_array_length(t.documents::json) AS docs,"
        " t.requested_at, t.started_at, t.finished_at, w.requested_at AS origin"
        " FROM treatments t JOIN workflows w ON w.id = :id"
        " WHERE t.workflow_id = :id OR t.part_of_id IN"
        " (SELECT id FROM treatments WHERE workflow_id = :id) ORDER BY t.requested_at",
        id=workflow_id,
    )
    for row in rows:
        times = [
            f"{(moment - row.origin).total_seconds():6.1f}" if moment else "     -"
            for moment in (row.requested_at, row.started_at, row.finished_at)
        ]
        kind = f"step {row.workflow_step}" if row.workflow_step else "  part"
        print(f"  {kind:22} {row.task_type:14} {row.docs:3} docs  asked/started/ended", *times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="app and processor workers")
    parser.add_argument("--timeline", action="store_true", help="print each step's and part's")
    parser.add_argument("--quick", action="store_true", help="no warm-up: a check that it works")
    args = parser.parse_args()
    concurrency = {"worker": args.workers, "processor-worker": args.workers}
    with fault_stack(
        quick=False, concurrency=concurrency, proxied=False, settings=DEPLOYED
    ) as stack:
        session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
        set_id = demo_set_id(session, stack.url)
        if not args.quick:
            _until(_treatment(stack, launch(session, stack.url, set_id, "regions")))
        hand, hand_ended = by_hand(stack, session, set_id)
        flow, flow_ended = as_workflow(stack, session, set_id, args.timeline)
    print("Full analysis (regions, then vectorization and similarity) of the demo set;")
    print(f"the Procfile's processes on PostgreSQL, {args.workers} app and processor workers")
    print(f"{'run':>40} {'seconds':>8}  steps ended")
    print(f"{'by hand, each started when the last ended':>40} {hand:>8.1f}  {hand_ended}")
    print(f"{'as a workflow':>40} {flow:>8.1f}  {flow_ended}")
    print(f"workflow / by hand: {flow / hand:.2f} (aim: at most 0.75)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
