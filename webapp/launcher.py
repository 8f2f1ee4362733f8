"""`flask up`: everything a new user needs, on one machine, in one command."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from webapp import ROOT
from webapp.demo.seed import DEMO_PASSWORD, seed_demo
from webapp.redis_server import redis_answers, start_redis


def _shared_secret(name: str, make: Callable[[], str]) -> str:
    """A setting both sides must share (WEBHOOK_SECRET, API_TOKEN), or one made once for this
    installation and kept under instance/, so that the processor started beside the web app
    signs what the web app verifies and accepts the token it sends."""
    if secret := current_app.config[name]:
        return str(secret)
    path = Path(current_app.instance_path) / name.lower()
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def demo_private_hosts(app_url: str, api_url: str) -> str:
    """Exactly what the demo's processes reach of each other: the processor fetches pages
    and posts notifications to the web app; the web app downloads results from the processor."""
    return ",".join(dict.fromkeys([urlsplit(app_url).netloc, urlsplit(api_url).netloc]))


def procfile_command(
    port: int, *processes: str, concurrency: dict[str, int] | None = None
) -> list[str]:
    """Honcho running the Procfile's processes (all by default), the first on `port`, with
    `concurrency` copies of the ones it names."""
    copies = ",".join(f"{name}={count}" for name, count in (concurrency or {}).items())
    return [
        sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"),
        "-d", str(ROOT), "-p", str(port), *(["-c", copies] if copies else []), *processes,
    ]  # fmt: skip


def stack_environment(host: str, port: int) -> dict[str, str]:
    """The environment of the Procfile's processes as `flask up` starts them."""
    app_url = os.environ.get("APP_URL", f"http://{host}:{port}")
    api_url = current_app.config["API_URL"]
    # The Procfile's commands live beside this interpreter, activated or not.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        **os.environ,
        "PATH": path,
        "REDIS_URL": current_app.config["REDIS_URL"],
        # --host opens the web process only; the processor stays where API_URL says.
        "HOST": host,
        "APP_URL": app_url,
        "API_URL": api_url,
        "PROCESSOR_HOST": urlsplit(api_url).hostname or "127.0.0.1",
        "PROCESSOR_PORT": str(urlsplit(api_url).port or 5001),
        "WEBHOOK_SECRET": _shared_secret("WEBHOOK_SECRET", _webhook_secret),
        "API_TOKEN": _shared_secret("API_TOKEN", lambda: secrets.token_urlsafe(32)),
        "ALLOWED_PRIVATE_HOSTS": os.environ.get(
            "ALLOWED_PRIVATE_HOSTS", demo_private_hosts(app_url, api_url)
        ),
    }


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def needed_ports(env: dict[str, str], starts_redis: bool) -> list[tuple[str, int, str]]:
    """(host, port, what holds it and where it is set) for every port the stack listens on."""
    ports = [
        (env["HOST"], int(env["PORT"]), "the web app: PORT or --port"),
        (env["PROCESSOR_HOST"], int(env["PROCESSOR_PORT"]), "the processing API: API_URL"),
        ("127.0.0.1", int(env.get("MAIL_PORT", "8025")), "the mail server: MAIL_PORT"),
    ]
    if starts_redis:
        redis_port = urlsplit(env["REDIS_URL"]).port or 6379
        ports.append(("127.0.0.1", redis_port, "the Redis it starts: REDIS_URL"))
    return ports


def refuse_taken(ports: list[tuple[str, int, str]]) -> None:
    """Stop before starting anything when a port is taken, saying which and where it is set."""
    for host, port, what in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # As the servers themselves bind: a port left in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise click.ClickException(
                    f"Port {port} on {host} is taken ({exc.strerror}); it is for {what}. "
                    "Stop what holds it, or choose another port."
                ) from exc


class Output:
    """Honcho's lines, echoed, with the last ones of each process kept to say why one died.
    A reader that went away (`flask up | tee log`, Ctrl-C) no longer gets them, and nothing
    else breaks."""

    PREFIX = re.compile(r"^\S+ (?P<name>[\w.-]+)\s*\| ?(?P<text>.*)$")
    STOPPED = re.compile(r"^\S+ system\s*\| (?P<name>[\w.-]+) stopped \(rc=(?P<rc>-?\d+)\)")
    ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self, kept: int = 15) -> None:
        self.lines: dict[str, deque[str]] = {}
        self.first_stopped: str | None = None
        self.kept = kept
        self.echoing = True

    def take(self, raw: bytes) -> None:
        line = self.ANSI.sub("", raw.decode(errors="replace")).rstrip("\n")
        if stopped := self.STOPPED.match(line):
            self.first_stopped = self.first_stopped or stopped["name"]
        elif found := self.PREFIX.match(line):
            self.lines.setdefault(found["name"], deque(maxlen=self.kept)).append(found["text"])
        if self.echoing:
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                self.echoing = False
                # The interpreter's own last flush would fail too.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def said(self, message: str) -> None:
        self.take(message.encode())

    def last_lines(self, name: str) -> list[str]:
        return list(self.lines.get(name, []))


def _stop_all(processes: list[subprocess.Popen[bytes] | None]) -> None:
    """Each process and its own group (honcho's children), politely, then at once."""
    for process in processes:
        if process is None or process.poll() is not None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@click.command("up")
@click.option(
    "--port",
    default=lambda: int(os.environ.get("PORT", "5000")),
    show_default="5000",
    help="Port of the web process.",
)
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option("--no-demo", is_flag=True, help="Do not seed the demo corpus.")
@with_appcontext
def up_command(port: int, host: str, no_demo: bool) -> None:
    """Start Redis if needed, migrate, seed the demo and run every Procfile process, the
    reference processing API included (at API_URL). A port that is taken stops it before it
    starts; a process that dies stops the rest, and the command exits non-zero with that
    process's last lines; Ctrl-C stops everything."""
    signal.signal(signal.SIGTERM, _stop)
    redis_url = current_app.config["REDIS_URL"]
    starts_redis = not redis_answers(redis_url)
    env = stack_environment(host, port)
    env["PORT"] = str(port)
    refuse_taken(needed_ports(env, starts_redis))
    output = Output()
    redis_process = honcho = None
    interrupted = False
    try:
        if starts_redis:
            click.echo(f"No Redis answers at {redis_url}; starting one.")
            redis_process = start_redis(redis_url, Path(current_app.instance_path) / "redis")
        else:
            click.echo(f"Using the Redis at {redis_url}.")
        upgrade(directory=str(ROOT / "migrations"))
        if not no_demo:
            report = seed_demo()
            click.echo(f"Demo corpus: {report.witnesses} witnesses, {report.pages} pages.")
            click.echo(f"Log in as {report.user.email} with the password {DEMO_PASSWORD}")
        click.echo(f"Scriptorium is starting at {env['APP_URL']}/login  (Ctrl-C stops it)")
        # In a session of its own: Ctrl-C reaches this command alone, which stops the rest
        # in order, whatever became of its output.
        honcho = subprocess.Popen(
            procfile_command(port),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert honcho.stdout is not None
        for raw in honcho.stdout:
            output.take(raw)
        honcho.wait()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _stop_all([honcho, redis_process])
    if interrupted:
        output.said("Stopped.")
        sys.exit(130)
    if honcho is not None and honcho.returncode:
        dead = output.first_stopped or "a process"
        lines = "\n".join(f"    {line}" for line in output.last_lines(dead))
        raise click.ClickException(
            f"{dead} stopped, and every other process with it. Its last lines:\n{lines}"
        )
