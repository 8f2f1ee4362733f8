"""The benchmarks that run the whole stack (the Procfile's processes), briefly, with the suite;
a file of their own so that they run beside the others' rather than after them."""

from __future__ import annotations

import pytest

from tests.test_bench import run_benchmark


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["bench.live_latency", "--quick"], "notify -> browser p99 / stream leg p99:"),
        (["bench.scale", "--quick"], "treatments per minute, 2 + 2 workers / 1 + 1:"),
        (["bench.workflow", "--quick"], "workflow / by hand:"),
    ],
)
def test_the_benchmark_runs(
    postgres_server: str, redis_url: str, arguments: list[str], expected: str
) -> None:
    run_benchmark(postgres_server, redis_url, arguments, expected)
