"""Full analysis as a workflow, next to the same three treatments run by hand.

Runs the whole stack as the Procfile runs it (honcho: web, worker, clock, processor,
processor-worker, processor-clock) on one PostgreSQL and one Redis of the run's own, and on
the demo set, in the same run:
- by hand: regions through the form, then, once it has ended, vectorization on its regions,
  then, once that has ended, similarity on the same regions (each started the moment the
  previous one ended: a user who watches the page could not be quicker);
- as a workflow: "Full analysis" started once through the workflow form.
A regions treatment runs first, untimed, so that both find the processor's caches as warm.
Prints both times and their ratio.

    python -m bench.workflow [--quick]
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
    stack: FaultStack, session: requests.Session, set_id: int
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
    return seconds, [row.status for row in steps]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no warm-up: a check that it works")
    args = parser.parse_args()
    with fault_stack(quick=False, proxied=False, settings=DEPLOYED) as stack:
        session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
        set_id = demo_set_id(session, stack.url)
        if not args.quick:
            _until(_treatment(stack, launch(session, stack.url, set_id, "regions")))
        hand, hand_ended = by_hand(stack, session, set_id)
        flow, flow_ended = as_workflow(stack, session, set_id)
    print("Full analysis (regions, then vectorization and similarity) of the demo set;")
    print("the Procfile's processes on PostgreSQL")
    print(f"{'run':>40} {'seconds':>8}  steps ended")
    print(f"{'by hand, each started when the last ended':>40} {hand:>8.1f}  {hand_ended}")
    print(f"{'as a workflow':>40} {flow:>8.1f}  {flow_ended}")
    print(f"workflow / by hand: {flow / hand:.2f} (aim: at most 0.75)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
