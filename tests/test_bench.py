"""Each benchmark runs briefly with the suite, so that it keeps working; figures never fail it."""

from __future__ import annotations

import os
import subprocess
import sys

from webapp import ROOT


def test_the_notify_benchmark_runs(postgres_server: str, redis_url: str) -> None:
    env = {**os.environ, "TEST_POSTGRES_URL": postgres_server, "TEST_REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-m", "bench.notify", "--quick", "--senders", "8"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "POST /regions/notify" in result.stdout
    assert "notify / one-insert baseline:" in result.stdout


def test_the_quality_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.quality", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "largest gap between the seeds" in result.stdout
