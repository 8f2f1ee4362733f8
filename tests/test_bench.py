"""Each benchmark runs briefly with the suite, so that it keeps working; figures never fail it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from webapp import ROOT


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["bench.notify", "--quick", "--senders", "8"], "notify / one-insert baseline:"),
        (["bench.quality", "--quick"], "against the Otsu baseline"),
        (["bench.sse_fanout", "--quick"], "bare subscriber p99"),
        (["bench.jobs", "--quick"], "per-job cost, Procfile worker / RQ baseline:"),
        (["bench.iiif", "--quick"], "slowest cold rendition / Pillow full decode:"),
        (["bench.ingest", "--quick"], "ingest / raw executemany:"),
    ],
)
def test_the_benchmark_runs(
    postgres_server: str, redis_url: str, arguments: list[str], expected: str
) -> None:
    run_benchmark(postgres_server, redis_url, arguments, expected)


def run_benchmark(postgres_server: str, redis_url: str, arguments: list[str], expected: str) -> str:
    """What the benchmark printed; its last line must hold `expected`."""
    env = {**os.environ, "TEST_POSTGRES_URL": postgres_server, "TEST_REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The figures, then the ratio against the baseline measured in the same run, last.
    assert expected in result.stdout.strip().splitlines()[-1]
    return result.stdout
