"""`flask treatments …`: the operators' commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.auth.models import User
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.treatments import service
from webapp.treatments.models import Treatment
from webapp.treatments.purge import parse_age, purge

treatments_cli = AppGroup("treatments", help="List, relaunch, cancel and purge treatments.")


def _treatment(treatment_id: str) -> Treatment:
    treatment = db.session.get(Treatment, treatment_id)
    if treatment is None:
        raise click.ClickException(f"No treatment {treatment_id}.")
    return treatment


@treatments_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_command(status: str | None, limit: int) -> None:
    """The newest treatments: id, status, task, owner, progress, requested."""
    stmt = select(Treatment).order_by(Treatment.requested_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(Treatment.status == status)
    for t in db.session.scalars(stmt):
        click.echo(
            f"{t.id}\t{t.status}\t{t.task_type}\t{t.owner.email}\t"
            f"{t.progress_text}\t{t.requested_at:%Y-%m-%d %H:%M}"
        )


@treatments_cli.command("relaunch")
@click.argument("treatment_id")
def relaunch_command(treatment_id: str) -> None:
    """Run a treatment again with the same task, parameters and documents."""
    try:
        new = service.relaunch(_treatment(treatment_id))
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Relaunched as {new.id}.")


@treatments_cli.command("cancel")
@click.argument("treatment_id")
@click.option("--by", "email", default="", help="The administrator's email, for the record.")
def cancel_command(treatment_id: str, email: str) -> None:
    """Cancel a running treatment (at the processing API first)."""
    treatment = _treatment(treatment_id)
    operator = db.session.scalar(select(User).where(User.email == email)) if email else None
    try:
        service.cancel(treatment, operator or treatment.owner)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Cancelled {treatment.id}.")


@treatments_cli.command("purge")
@click.option("--older-than", "age", default="30d", show_default=True, help="e.g. 30d, 12h.")
@click.option("--dry-run", is_flag=True, help="Count what would go, delete nothing.")
def purge_command(age: str, dry_run: bool) -> None:
    """Delete old event histories, old failed and cancelled treatments, old derived files."""
    try:
        older_than = parse_age(age)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from exc
    report = purge(older_than, dry_run=dry_run)
    click.echo(f"{'Would delete' if dry_run else 'Deleted'} {report}.")
