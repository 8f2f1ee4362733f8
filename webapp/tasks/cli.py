"""`flask tasks …`: start, follow, list and cancel background tasks from the command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.auth.cli import account
from webapp.errors import UserError
from webapp.extensions import db
from webapp.following import follow, name_values, wait_options
from webapp.lifecycle import Status
from webapp.tasks.base import InputError
from webapp.tasks.models import Task
from webapp.tasks.registry import background_tasks, offered_tasks
from webapp.tasks.service import cancel_task, start_task

tasks_cli = AppGroup("tasks", help="Start, follow, list and cancel background tasks.")


def _task(task_id: str) -> Task:
    task = db.session.get(Task, task_id.strip().lower())
    if task is None:
        raise click.ClickException(f"No task {task_id}.")
    return task


def _inputs(pairs: tuple[str, ...], given: str) -> dict[str, Any]:
    """--json's object, then each --input NAME=VALUE; a VALUE that reads as JSON (a number,
    true, a list) is taken as such, anything else as text."""
    try:
        inputs = json.loads(given) if given else {}
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from exc
    if not isinstance(inputs, dict):
        raise click.BadParameter("give a JSON object.", param_hint="--json")
    for name, value in name_values(pairs, "--input").items():
        try:
            inputs[name] = json.loads(value)
        except json.JSONDecodeError:
            inputs[name] = value
    return inputs


@tasks_cli.command("types")
def types_command() -> None:
    """The tasks this installation runs, with their inputs."""
    for name, task_class in sorted(offered_tasks().items()):
        inputs = ", ".join(
            f"{key}{'' if p.required else '?'}" for key, p in task_class.inputs.items()
        )
        click.echo(f"{name}\t{task_class.label}\t{inputs}")


@tasks_cli.command("launch")
@click.argument("name")
@click.option("--input", "pairs", multiple=True, metavar="NAME=VALUE", help="An input.")
@click.option("--json", "given", default="", help="The inputs as a JSON object.")
@click.option("--as", "email", required=True, help="Whose task it is.")
@wait_options
def launch_command(
    name: str,
    pairs: tuple[str, ...],
    given: str,
    email: str,
    wait: bool,
    every: float,
    timeout: float,
) -> None:
    """Queue a task; with --wait, follow it and exit 0 on success, 1 on any other end (or
    when the timeout passes)."""
    owner = account(email)
    try:
        task = start_task(owner, name, _inputs(pairs, given)).task
    except InputError as exc:
        for field, messages in exc.problems.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise click.ClickException("The task was not started.") from exc
    click.echo(f"Queued {task.id}: {background_tasks()[task.name].label}.")
    if wait:
        ended = follow(lambda: _task(task.id), every, timeout)
        if ended is Status.SUCCESS:
            click.echo(json.dumps(_task(task.id).outputs))
        sys.exit(0 if ended is Status.SUCCESS else 1)


@tasks_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_command(status: str | None, limit: int) -> None:
    """The newest tasks: id, status, name, owner, progress, requested."""
    stmt = select(Task).order_by(Task.requested_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(Task.status == status)
    for t in db.session.scalars(stmt):
        click.echo(
            f"{t.id}\t{t.status}\t{t.name}\t{t.owner.email}\t"
            f"{t.progress_text}\t{t.requested_at:%Y-%m-%d %H:%M}"
        )


@tasks_cli.command("cancel")
@click.argument("task_id")
def cancel_command(task_id: str) -> None:
    """Cancel a task and its unfinished parts; a running one stops at its next step."""
    task = _task(task_id)
    try:
        cancel_task(task, task.owner)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Cancelled {task.id}.")
