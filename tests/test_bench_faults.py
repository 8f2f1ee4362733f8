"""The fault benchmark runs briefly with the suite, in a file of its own (the longest stack
run): correctness, not speed — nothing stuck, lost, doubled or moved back under any fault."""

from __future__ import annotations

from tests.test_bench import run_benchmark


def test_the_fault_benchmark_runs(postgres_server: str, redis_url: str) -> None:
    run_benchmark(
        postgres_server,
        redis_url,
        ["bench.faults", "--quick"],
        "faults with a non-zero must-be-zero figure: 0",
    )
