"""Fault suite: the real processes, real faults, and what became of every treatment.

The stack runs as the Procfile runs it (honcho; the web process under a honcho of its own so
that it can be taken down alone), on PostgreSQL reached through a TCP proxy that can cut it
off, and on a Redis of its own on a free port. Each fault runs several regions treatments on
the demo corpus and injects one failure; then it waits for every treatment to end and prints
one row: treatments, ended SUCCESS / ERROR / CANCELLED, stuck, lost notifications,
duplicate result rows and backwards moves. The last four must be 0.

    python -m bench.faults            # every fault, 4 treatments each, outages of 3 minutes
    python -m bench.faults --quick    # 1 treatment each, outages of a few seconds
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from bench.server import ROOT, free_port
from tests import provision
from tests.live_stack import demo_set_id, form_fields, launch, log_in
from tests.processing_api import WEBHOOK_SECRET
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD
from webapp.launcher import demo_private_hosts, procfile_command
from webapp.lifecycle import Status
from webapp.redis_server import start_redis

BIN = Path(sys.executable).parent
TERMINAL = {"SUCCESS", "ERROR", "CANCELLED"}
RANK = {"PENDING": 0, "RETRYING": 0, "WAITING": 0, "STARTED": 1, "IN_PROGRESS": 2}
LABELS = {status.label: status.value for status in Status}


class Proxy:
    """A TCP proxy to PostgreSQL: `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self._server.accept()
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        # shutdown() first: it wakes the other direction's thread, blocked in recv(); a bare
        # close() would leave that socket open, and PostgreSQL's connection with it.
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                end.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                    connection.close()
            self._connections.clear()

    def restore(self) -> None:
        self._open.set()


@dataclass
class Outcome:
    fault: str
    treatments: int
    ended: dict[str, int]
    stuck: int
    lost: int
    duplicates: int
    backwards: int


class FaultStack:
    """One run's processes, database, Redis and folder."""

    def __init__(
        self,
        folder: Path,
        postgres: str,
        quick: bool,
        concurrency: dict[str, int] | None = None,
        proxied: bool = True,
        settings: dict[str, str] | None = None,
    ) -> None:
        """`concurrency`: copies of Procfile processes; `proxied`: PostgreSQL reached through
        the proxy that can cut it (a benchmark of speed goes straight to it); `settings`:
        environment that replaces the suite's own (its clocks poll fast, for short faults)."""
        self.folder = folder
        self.concurrency = concurrency
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.database_name = f"scriptorium_faults_{uuid.uuid4().hex[:8]}"
        self.postgres = postgres
        url = provision.create_database(postgres, self.database_name)
        self.engine: Engine = create_engine(url)
        server_port = self.engine.url.port or 5432
        self.proxy = Proxy(server_port)
        database_url = self.engine.url.set(port=self.proxy.port) if proxied else self.engine.url
        self.port, self.processor_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "STORAGE_DIR": str(folder / "storage"),
            "PROCESSOR_DATA_DIR": str(folder / "processor"),
            "SECRET_KEY": "fault-suite-secret",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REDIS_URL": self.redis_url,
            "RATELIMIT_STORAGE_URI": self.redis_url,
            "APP_URL": self.url,
            "API_URL": f"http://127.0.0.1:{self.processor_port}",
            "PROCESSOR_PORT": str(self.processor_port),
            "API_TOKEN": "fault-suite-api-token",
            "ALLOWED_PRIVATE_HOSTS": demo_private_hosts(
                self.url, f"http://127.0.0.1:{self.processor_port}"
            ),
            "WEB_CONCURRENCY": "1",
            "PROCESSOR_CONCURRENCY": "1",
            "CLOCK_INTERVAL_SECONDS": "1",
            "DISPATCH_GRACE_SECONDS": "5",
            "LAUNCH_LEASE_SECONDS": "10",
            "OUTBOX_POLL_SECONDS": "0.1",
            "OUTBOX_FIRST_DELAY_SECONDS": "1",
            "OUTBOX_MAX_DELAY_SECONDS": "5" if quick else "15",
            "PROCESSOR_LEASE_SECONDS": "15" if quick else "30",
            "PROCESSOR_SWEEP_SECONDS": "2",
            **(settings or {}),
        }
        self.redis: subprocess.Popen[bytes] | None = None
        self.web: subprocess.Popen[bytes] | None = None
        self.rest: subprocess.Popen[bytes] | None = None
        self.log = (folder / "processes.log").open("ab")

    def start_redis(self) -> None:
        self.redis = start_redis(self.redis_url, self.folder / "redis")

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()
        self.redis.wait()

    def _honcho(self, *processes: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            procfile_command(self.port, *processes, concurrency=self.concurrency),
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def flask(self, *arguments: str) -> None:
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *arguments],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )

    def start(self) -> None:
        self.start_redis()
        self.flask("db", "upgrade")
        self.flask("demo", "seed", "--pages-per-witness", "1")
        self.rest = self._honcho(
            "worker", "clock", "processor", "processor-worker", "processor-clock"
        )
        self.start_web()
        self._wait(lambda: _answers(f"{self.env['API_URL']}/healthz"), "the processor", 120)

    def start_web(self) -> None:
        self.web = self._honcho("web")
        self._wait(lambda: _answers(f"{self.url}/healthz"), "the web app", 120)

    def stop_web(self) -> None:
        _stop_group(self.web)

    def stop(self) -> None:
        for process in (self.web, self.rest):
            _stop_group(process)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait()
        self.engine.dispose()
        provision.drop_database(self.postgres, self.database_name)
        self.log.close()

    def _wait(self, condition: Callable[[], bool], what: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}; see {self.log.name}")
            time.sleep(0.2)

    def query(self, sql: str, **parameters: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), parameters))

    def statuses(self, ids: list[str]) -> dict[str, str]:
        rows = self.query("SELECT id, status FROM treatments WHERE id = ANY(:ids)", ids=ids)
        return {row.id: row.status for row in rows}

    def kill(self, pattern: str) -> int:
        """SIGKILL every process of this run whose command line holds `pattern`."""
        killed = 0
        for pid in _pids(pattern, self.env["REDIS_URL"]):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        return killed

    def processor_outbox(self, tracking_ids: set[str]) -> list[tuple[str, float | None]]:
        """The processor's notifications for these runs: webhook id, when delivered."""
        path = self.folder / "processor" / "processor.db"
        with sqlite3.connect(path, timeout=30) as connection:
            rows = connection.execute("SELECT webhook_id, delivered_at, tracking_id FROM outbox")
            return [(w, d) for w, d, t in rows if t in tracking_ids]


def _stop_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _pids(pattern: str, marker: str) -> list[int]:
    """Processes whose command line holds `pattern` and whose environment is this run's."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environment = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if pattern in command and marker in environment and "supervise" not in command:
            found.append(int(entry.name))
    return found


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _redis_answers(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_timeout=1).ping())
    except RedisError:
        return False


class Fault:
    """Launch the treatments, inject the fault once they run, wait for them all to end."""

    name = ""

    def __init__(self, stack: FaultStack, count: int, outage: float) -> None:
        self.stack, self.count, self.outage = stack, count, outage

    def launch(self) -> list[str]:
        session = log_in(self.stack.url, DEMO_EMAIL, DEMO_PASSWORD)
        self.session = session
        set_id = demo_set_id(session, self.stack.url)
        return [launch(session, self.stack.url, set_id, "regions") for _ in range(self.count)]

    def wait_until(self, ids: list[str], condition: Callable[[dict[str, str]], bool]) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with suppress(Exception):
                if condition(self.stack.statuses(ids)):
                    return
            time.sleep(0.2)

    def inject(self, ids: list[str]) -> None:
        raise NotImplementedError

    def run(self, horizon: float) -> Outcome:
        ids = self.launch()
        self.inject(ids)
        deadline = time.monotonic() + horizon
        while time.monotonic() < deadline and not self._settled(ids):
            time.sleep(0.5)
        return measure(self.stack, self.name, ids)

    def _settled(self, ids: list[str]) -> bool:
        """Every treatment ended and every notification of their runs delivered."""
        try:
            if not set(self.stack.statuses(ids).values()) <= TERMINAL:
                return False
            outbox = self.stack.processor_outbox(_tracking_ids(self.stack, ids))
        except Exception:  # a fault may still hold the database
            return False
        return all(delivered is not None for _, delivered in outbox)


class KillWorkerAtLaunch(Fault):
    name = "web worker SIGKILL mid-launch"

    def inject(self, ids: list[str]) -> None:
        self.stack.kill("webapp.jobs.AppContextJob")


class KillWorkerAtApply(Fault):
    name = "web worker SIGKILL mid-apply"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: "IN_PROGRESS" in s.values())
        self.stack.kill("webapp.jobs.AppContextJob")


class KillProcessorWorker(Fault):
    name = "processor worker SIGKILL mid-job"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: "IN_PROGRESS" in s.values())
        self.stack.kill(f"{self.stack.redis_url} processor")


class RestartRedis(Fault):
    name = "Redis killed and restarted"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: "IN_PROGRESS" in s.values())
        self.stack.kill_redis()
        time.sleep(min(self.outage, 10))
        self.stack.start_redis()


class WebDown(Fault):
    name = "web app down while the processor notifies"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: all(v != "PENDING" for v in s.values()))
        self.stack.stop_web()
        time.sleep(self.outage)
        self.stack.start_web()


class DatabaseDown(Fault):
    name = "database unreachable, then back"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: all(v != "PENDING" for v in s.values()))
        self.stack.proxy.cut()
        time.sleep(self.outage)
        self.stack.proxy.restore()


class DuplicateStorm(Fault):
    name = "duplicate and out-of-order notifications"

    def inject(self, ids: list[str]) -> None:
        self.wait_until(ids, lambda s: set(s.values()) <= TERMINAL)
        rows = self.stack.query(
            "SELECT treatment_id, dedupe_key, payload FROM treatment_events "
            "WHERE kind = 'notification' AND treatment_id = ANY(:ids)",
            ids=ids,
        )
        deliveries = [row for row in rows for _ in range(5)]
        random.Random(7).shuffle(deliveries)
        for row in deliveries:
            body = json.dumps(row.payload)
            when = datetime.now(UTC)
            headers = {
                "webhook-id": row.dedupe_key,
                "webhook-timestamp": str(int(when.timestamp())),
                "webhook-signature": Webhook(WEBHOOK_SECRET).sign(row.dedupe_key, when, body),
                "content-type": "application/json",
            }
            requests.post(
                f"{self.stack.url}/regions/notify", data=body, headers=headers, timeout=10
            )


class CancelRacingSuccess(Fault):
    name = "cancel racing SUCCESS"

    def inject(self, ids: list[str]) -> None:
        # Cancel as the last documents come in, at the last one or up to two before: the
        # SUCCESS is on its way, and sometimes here first.
        pending = {treatment_id: n % 3 for n, treatment_id in enumerate(ids)}
        deadline = time.monotonic() + 300
        while pending and time.monotonic() < deadline:
            for treatment_id, before_end in list(pending.items()):
                status = self.stack.statuses([treatment_id]).get(treatment_id)
                done, total = _progress(self.stack, treatment_id)
                if status in TERMINAL or (total and done >= total - before_end):
                    self._cancel(treatment_id)
                    del pending[treatment_id]
            time.sleep(0.05)

    def _cancel(self, treatment_id: str) -> None:
        page = self.session.get(f"{self.stack.url}/treatments/{treatment_id}", timeout=10)
        token = form_fields(page.text).get("csrf_token", "")
        self.session.post(
            f"{self.stack.url}/treatments/{treatment_id}/cancel",
            data={"csrf_token": token},
            timeout=30,
            allow_redirects=False,
        )


def _progress(stack: FaultStack, treatment_id: str) -> tuple[int, int]:
    """Documents the processor has reported done (received, applied or not), of the total."""
    rows = stack.query(
        "SELECT (SELECT count(*) FROM treatment_events WHERE treatment_id = t.id "
        "AND kind = 'notification' AND event = 'PROGRESS') AS done, t.documents "
        "FROM treatments AS t WHERE t.id = :id",
        id=treatment_id,
    )
    return (rows[0].done, len(rows[0].documents)) if rows else (0, 0)


def _tracking_ids(stack: FaultStack, ids: list[str]) -> set[str]:
    rows = stack.query("SELECT tracking_id FROM treatments WHERE id = ANY(:ids)", ids=ids)
    return {row.tracking_id for row in rows if row.tracking_id}


def measure(stack: FaultStack, fault: str, ids: list[str]) -> Outcome:
    statuses = stack.statuses(ids)
    ended = {status: sum(1 for s in statuses.values() if s == status) for status in TERMINAL}
    received = {row.dedupe_key for row in stack.query("SELECT dedupe_key FROM treatment_events")}
    outbox = stack.processor_outbox(_tracking_ids(stack, ids))
    lost = sum(1 for webhook_id, _ in outbox if webhook_id not in received)
    duplicates = stack.query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM regions JOIN region_sets "
        "ON regions.region_set_id = region_sets.id WHERE region_sets.treatment_id = ANY(:ids) "
        "GROUP BY region_set_id, page_id, x, y, w, h HAVING count(*) > 1) AS doubled",
        ids=ids,
    )[0].n
    return Outcome(
        fault=fault,
        treatments=len(ids),
        ended=ended,
        stuck=sum(1 for s in statuses.values() if s not in TERMINAL),
        lost=lost,
        duplicates=duplicates,
        backwards=sum(_backwards(stack, treatment_id) for treatment_id in ids),
    )


def _backwards(stack: FaultStack, treatment_id: str) -> int:
    """Moves in the history that go back, or that leave an ending."""
    rows = stack.query(
        "SELECT kind, event, outcome FROM treatment_events WHERE treatment_id = :id ORDER BY id",
        id=treatment_id,
    )
    moves = []
    for row in rows:
        if row.kind == "move":
            moves.append(row.event)
        else:  # a notification that moved the treatment says so in its outcome
            moves += [LABELS[label] for label in LABELS if f"→ {label}" in (row.outcome or "")]
    count, rank, ended = 0, -1, False
    for move in moves:
        if ended:
            count += 1
            continue
        if move in TERMINAL:
            ended = True
            continue
        if RANK.get(move, 0) < rank:
            count += 1
        rank = max(rank, RANK.get(move, 0))
    return count


FAULTS: list[type[Fault]] = [
    KillWorkerAtLaunch,
    KillWorkerAtApply,
    KillProcessorWorker,
    RestartRedis,
    WebDown,
    DatabaseDown,
    DuplicateStorm,
    CancelRacingSuccess,
]


@contextmanager
def fault_stack(
    quick: bool,
    concurrency: dict[str, int] | None = None,
    proxied: bool = True,
    settings: dict[str, str] | None = None,
) -> Iterator[FaultStack]:
    postgres, started = provision.postgres_server()
    folder = Path(tempfile.mkdtemp(prefix="scriptorium-faults-"))
    stack = FaultStack(folder, postgres, quick, concurrency, proxied, settings)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if started is not None:
            started.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the stack, its Redis and its database go too


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 treatment, short outages")
    parser.add_argument("--treatments", type=int, default=None)
    parser.add_argument("--only", default="", help="run only the faults whose name holds this")
    arguments = parser.parse_args()
    count = arguments.treatments or (1 if arguments.quick else 4)
    outage = 3.0 if arguments.quick else 180.0
    header = (
        "| fault | treatments | SUCCESS | ERROR | CANCELLED | stuck | lost notifications "
        "| duplicate result rows | backwards moves |"
    )
    print(header)
    print("|" + "---|" * 9)
    failures = 0
    with fault_stack(arguments.quick) as stack:
        for kind in FAULTS:
            if arguments.only not in kind.name:
                continue
            started = time.monotonic()
            outcome = kind(stack, count, outage).run(horizon=90 if arguments.quick else 600)
            seconds = time.monotonic() - started
            failures += outcome.stuck + outcome.lost + outcome.duplicates + outcome.backwards
            print(
                f"| {outcome.fault} | {outcome.treatments} | {outcome.ended['SUCCESS']} "
                f"| {outcome.ended['ERROR']} | {outcome.ended['CANCELLED']} | {outcome.stuck} "
                f"| {outcome.lost} | {outcome.duplicates} | {outcome.backwards} |",
                f"({seconds:.0f} s)",
                flush=True,
            )
    print(f"faults with a non-zero must-be-zero figure: {failures}")


if __name__ == "__main__":
    main()
