"""The processor's worker and clock as real processes: a worker killed in the middle of a job
is replaced, the job resumes where it stopped, and every notification arrives once, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from processor.clock import sweep
from processor.models import Job, db
from processor.work import queue
from tests.processor_harness import Processor
from webapp import ROOT

BIN = Path(sys.executable).parent


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


class Processes:
    def __init__(self, app: Flask, log: Path) -> None:
        config = app.config
        self.env = {
            **os.environ,
            "PROCESSOR_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "PROCESSOR_DATA_DIR": config["DATA_DIR"],
            "REDIS_URL": config["REDIS_URL"],
            "WEBHOOK_SECRET": config["WEBHOOK_SECRET"],
            "ALLOWED_PRIVATE_HOSTS": ",".join(config["ALLOWED_PRIVATE_HOSTS"]),
            "API_URL": config["API_URL"],
            "PROCESSOR_LEASE_SECONDS": "2",
            "PROCESSOR_SWEEP_SECONDS": "0.5",
            "OUTBOX_POLL_SECONDS": "0.05",
            "OUTBOX_FIRST_DELAY_SECONDS": "0.2",
        }
        self.log = log
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, *command: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [str(BIN / command[0]), *command[1:]],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes], how: signal.Signals) -> None:
        """Signal a process and its children: RQ's work horse runs in a session of its own."""
        if process.poll() is None:
            for child in _children(process.pid):
                os.kill(child, how)
            os.killpg(process.pid, how)
            process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.running:
            self.kill(process, signal.SIGTERM)

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-4000:]
                raise AssertionError(f"timed out waiting for {what}\n{tail}")
            time.sleep(0.05)


@pytest.fixture
def processes(processor: Processor, tmp_path: Path) -> Iterator[Processes]:
    running = Processes(processor.app, tmp_path / "processes.log")
    yield running
    running.stop()


def test_a_worker_killed_mid_job_is_replaced_and_nothing_is_lost_or_doubled(
    processor: Processor, processes: Processes
) -> None:
    documents = [
        {"type": "iiif", "src": processor.serve_pages(uid, 3), "uid": uid}
        for uid in ("doc1", "doc2", "doc3", "doc4")
    ]
    tracking_id = processor.started("regions", documents)
    redis_url = processor.app.config["REDIS_URL"]
    worker = processes.start("rq", "worker", "--url", redis_url, "processor")
    processes.start("flask", "--app", "processor.app", "clock")

    processes.wait_for(lambda: "PROGRESS" in processor.events(), "a first PROGRESS")
    processes.kill(worker, signal.SIGKILL)
    done_before = processor.events().count("PROGRESS")
    assert done_before < 4, "the job ended before the worker was killed: give it more pages"
    processes.start("rq", "worker", "--url", redis_url, "processor")
    processes.wait_for(lambda: "SUCCESS" in processor.events(), "SUCCESS after the restart")
    time.sleep(1)  # anything sent twice would arrive now

    assert processor.events() == [
        "STARTED",
        "PROGRESS",
        "PROGRESS",
        "PROGRESS",
        "PROGRESS",
        "SUCCESS",
    ]
    ids = [headers["webhook-id"] for headers, _ in processor.received]
    assert len(set(ids)) == len(ids)
    bodies = [body for _, body in processor.received]
    assert [b["progress"]["current"] for b in bodies if b["event"] == "PROGRESS"] == [1, 2, 3, 4]
    docs = [b["output"]["results_url"][0]["doc_id"] for b in bodies if b["event"] == "PROGRESS"]
    assert docs == ["doc1", "doc2", "doc3", "doc4"]
    assert len(bodies[-1]["output"]["results_url"]) == 4
    assert f"job {tracking_id} queued again" in processes.log.read_text()
    job = db.session.get(Job, tracking_id)
    assert job is not None
    db.session.refresh(job)
    assert job.status == "SUCCESS"


def test_a_job_redis_forgot_is_queued_again(processor: Processor) -> None:
    src = processor.serve_pages("a", 1)
    processor.started("regions", [{"type": "iiif", "src": src, "uid": "a"}])
    assert sweep() == 0  # queued and waiting: nothing to do
    queue().delete(delete_jobs=True)  # what a Redis restart without persistence does
    assert sweep() == 1
    processor.run_jobs()
    processor.deliver()
    assert processor.events() == ["STARTED", "PROGRESS", "SUCCESS"]
