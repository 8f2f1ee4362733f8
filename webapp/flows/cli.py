"""`flask flows …`: submit a flow from the command line, and, in test mode only, remove what
tests' flows left."""

from __future__ import annotations

import json
import shutil

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, select, update

from webapp import storage
from webapp.auth.cli import account
from webapp.extensions import db
from webapp.flows.engine import FlowError, recover, submit
from webapp.flows.models import FlowRecord, Phase

flows_cli = AppGroup("flows", help="Submit flows; remove what tests left (test mode only).")


@flows_cli.command("run")
@click.argument("name")
@click.option("--data", "given", default="{}", show_default=True, help="A JSON object.")
@click.option("--as", "email", required=True, help="Whose change it is.")
@click.option("--async", "in_background", is_flag=True, help="Queue it and say its task.")
@click.option("--force-fail", is_flag=True, help="Fail it at its end, undoing all it did.")
def run_command(name: str, given: str, email: str, in_background: bool, force_fail: bool) -> None:
    """Run a flow; print its result as JSON (or its task's id with --async), or its error
    and exit 1."""
    try:
        data = json.loads(given)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
    try:
        submitted = submit(
            name,
            data,
            user=account(email),
            mode="async" if in_background else "sync",
            force_fail=force_fail,
        )
    except FlowError as exc:
        raise click.ClickException(str(exc)) from exc
    if submitted.task_id:
        click.echo(f"Queued as the task {submitted.task_id}.")
    else:
        click.echo(json.dumps(submitted.result))


@flows_cli.command("cleanup")
def cleanup_command() -> None:
    """Test mode only: undo every flow not ended, then forget all flows and their files."""
    if not current_app.testing:
        raise click.ClickException("flows cleanup runs only in test mode (TESTING=1).")
    unfinished = db.session.scalars(
        select(FlowRecord.id).where(FlowRecord.phase.in_([Phase.RUNNING, Phase.COMMITTED]))
    ).all()
    for record_id in unfinished:
        # No worker runs a test's flow any more: its lease is over now.
        db.session.execute(
            update(FlowRecord).where(FlowRecord.id == record_id).values(claimed_at=None)
        )
        db.session.commit()
        recover(record_id)
    removed = getattr(db.session.execute(delete(FlowRecord)), "rowcount", 0)
    db.session.commit()
    shutil.rmtree(storage.absolute("flows"), ignore_errors=True)
    click.echo(f"Undid or finished {len(unfinished)} flows; forgot {removed}.")
