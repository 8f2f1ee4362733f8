"""The API benchmark runs briefly with the suite, in a file of its own: the longest quick run,
it then runs beside the other benchmarks rather than after them."""

from __future__ import annotations

import re

from tests.test_bench import run_benchmark


def test_the_api_benchmark_runs(postgres_server: str, redis_url: str) -> None:
    printed = run_benchmark(
        postgres_server,
        redis_url,
        ["bench.api", "--quick"],
        "task starts / one-insert baseline at saturation:",
    )
    # Each paced phase's CPU, split between the Procfile's two web workers.
    splits = re.findall(r"(.*), paced: .* CPU they used: (\d+) % / (\d+) %", printed)
    assert [name for name, *_shares in splits] == [
        "parse + 1 insert (baseline)",
        "POST /api/v1/tasks",
    ]
    for _name, *shares in splits:
        assert 99 <= sum(int(share) for share in shares) <= 101
