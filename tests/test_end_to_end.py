"""The whole system as real processes: web, worker, processor, processor worker and its clock
(the Procfile's own commands) on a real Redis; a user runs regions on a small demo set, then
vectorization and similarity on the regions found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_stack import Stack, demo_set_id, launch, log_in
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

TREATMENT_SECONDS = 300


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[Stack]:
    stack = Stack(tmp_path, redis_url)
    stack.flask("db", "upgrade")
    stack.flask("demo", "seed", "--pages-per-witness", "2")
    stack.start()
    yield stack
    stack.stop()


def _ended(stack: Stack, treatment_id: str) -> str:
    def finished() -> bool:
        rows = stack.query("SELECT status FROM treatments WHERE id = ?", treatment_id)
        return bool(rows) and rows[0][0] in {"SUCCESS", "ERROR", "CANCELLED"}

    stack.wait_for(finished, f"treatment {treatment_id} to end", TREATMENT_SECONDS)
    status, error = stack.query("SELECT status, error FROM treatments WHERE id = ?", treatment_id)[
        0
    ]
    return f"{status} {error}".strip()


def test_regions_then_vectorization_and_similarity_on_the_demo_set(stack: Stack) -> None:
    session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
    set_id = demo_set_id(session, stack.url)

    regions = launch(session, stack.url, set_id, "regions")
    assert _ended(stack, regions) == "SUCCESS"
    [(region_count,)] = stack.query(
        "SELECT count(*) FROM regions JOIN region_sets ON regions.region_set_id = region_sets.id "
        "WHERE region_sets.treatment_id = ?",
        regions,
    )
    [(pages,)] = stack.query("SELECT count(*) FROM pages")
    assert region_count >= pages // 2, "the demo pages are full of figures"
    events = [
        e
        for (e,) in stack.query(
            "SELECT event FROM treatment_events WHERE treatment_id = ? AND kind = 'notification' "
            "ORDER BY id",
            regions,
        )
    ]
    assert events[0] == "STARTED"
    assert events.count("PROGRESS") == 6  # one per witness of the demo set
    assert events[-1] == "SUCCESS"

    vectorization = launch(
        session, stack.url, set_id, "vectorization", **{"vectorization-regions_treatment": regions}
    )
    similarity = launch(
        session, stack.url, set_id, "similarity", **{"similarity-regions_treatment": regions}
    )
    assert _ended(stack, vectorization) == "SUCCESS"
    assert _ended(stack, similarity) == "SUCCESS"
    [(svgs,)] = stack.query(
        "SELECT count(*) FROM vectorizations WHERE treatment_id = ?", vectorization
    )
    assert svgs == region_count
    [(pairs,)] = stack.query(
        "SELECT count(*) FROM similarity_pairs WHERE treatment_id = ?", similarity
    )
    assert pairs > 0

    page = session.get(f"{stack.url}/treatments/{similarity}", timeout=10).text
    assert "SUCCESS" in page.upper()
    # The processor was reached with its token only, and no secret reached the access log.
    log = stack.log_path.read_text(errors="replace")
    assert "/regions/notify?token=[redacted]" in log
    assert not re.search(r"token=(?!\[redacted\])\w", log)
    assert not re.search(r"[?&]key=(?!\[redacted\])\w", log)
