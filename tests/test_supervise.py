"""A Procfile process that dies is started again instead of stopping the whole stack."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import pathlib, sys, time
runs = pathlib.Path(sys.argv[1])
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
if len(runs.read_text()) < 3:
    sys.exit(1)  # dies of an outage, twice
time.sleep(60)
"""


def _wait_for(predicate: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise AssertionError("it did not happen in time")


def test_a_process_that_dies_is_started_again_and_stops_with_its_supervisor(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "webapp.supervise", sys.executable, "-c", CHILD, str(runs)],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: runs.exists() and runs.read_text() == "xxx")
        assert supervisor.poll() is None
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, stderr = supervisor.communicate(timeout=20)
    assert supervisor.returncode is not None
    assert stderr.decode().count("starting it again") == 2
