"""`flask up`: everything a new user needs, on one machine, in one command."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
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
    reference processing API included (at API_URL)."""
    signal.signal(signal.SIGTERM, _stop)
    redis_url = current_app.config["REDIS_URL"]
    redis_process = None
    if redis_answers(redis_url):
        click.echo(f"Using the Redis at {redis_url}.")
    else:
        click.echo(f"No Redis answers at {redis_url}; starting one.")
        redis_process = start_redis(redis_url, Path(current_app.instance_path) / "redis")
    honcho = None
    try:
        upgrade(directory=str(ROOT / "migrations"))
        if not no_demo:
            report = seed_demo()
            click.echo(f"Demo corpus: {report.witnesses} witnesses, {report.pages} pages.")
            click.echo(f"Log in as {report.user.email} with the password {DEMO_PASSWORD}")
        env = stack_environment(host, port)
        app_url = env["APP_URL"]
        click.echo(f"Scriptorium is starting at {app_url}/login  (Ctrl-C stops it)")
        honcho = subprocess.Popen(procfile_command(port), env=env)
        honcho.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in (honcho, redis_process):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
