"""What the commands that launch work share: NAME=VALUE options, and `--wait`, which follows
the work until it ends (treatments and tasks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from webapp.extensions import db
from webapp.lifecycle import Status


def name_values(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """Repeated NAME=VALUE options as a dict; a usage error names the bad one."""
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE.", param_hint=option)
        found[name.strip()] = value
    return found


def wait_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--wait, --every and --timeout."""
    command = click.option(
        "--timeout",
        default=0.0,
        type=click.FloatRange(0),
        help="Give up waiting after this many seconds (0: never).",
    )(command)
    command = click.option(
        "--every",
        default=1.0,
        show_default=True,
        type=click.FloatRange(0.05),
        help="Seconds between looks.",
    )(command)
    return click.option("--wait", is_flag=True, help="Print its progress until it ends.")(command)


def follow(load: Callable[[], Any], every: float, timeout: float) -> Status | None:
    """Print each new state and progress of the work `load` reads until it ends; its last
    status, or None when the timeout passed first."""
    started, said = time.monotonic(), ""
    while True:
        db.session.expire_all()
        work = load()
        line = f"{work.state.label}: {work.progress_text}"
        if work.message:
            line += f" · {work.message}"
        if line != said:
            click.echo(line)
            said = line
        if work.state.is_terminal:
            if work.error:
                click.echo(f"Error: {work.error}")
            return Status(work.status)
        if timeout and time.monotonic() - started > timeout:
            click.echo(f"Still {work.state.label.lower()} after {timeout:g} s; not waiting.")
            return None
        db.session.rollback()
        time.sleep(every)
