"""`flask treatments …`: the operators' commands."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.following import follow, name_values, wait_options
from webapp.lifecycle import Status
from webapp.task_modules.registry import task_modules
from webapp.treatments import service
from webapp.treatments.forms import checked_parameters
from webapp.treatments.models import Treatment
from webapp.treatments.purge import parse_age, purge

treatments_cli = AppGroup(
    "treatments", help="Launch, follow, list, relaunch, cancel and purge treatments."
)


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


@treatments_cli.command("launch")
@click.option("--set", "set_id", required=True, type=click.IntRange(1), help="The set's id.")
@click.option("--task", required=True, help="regions, vectorization, similarity, …")
@click.option("--param", "pairs", multiple=True, metavar="NAME=VALUE", help="A parameter.")
@click.option("--as", "email", default="", help="Whose treatment it is (default: the set's owner).")
@click.option("--email/--no-email", "notify_email", default=False, help="Email its end.")
@wait_options
def launch_command(
    set_id: int,
    task: str,
    pairs: tuple[str, ...],
    email: str,
    notify_email: bool,
    wait: bool,
    every: float,
    timeout: float,
) -> None:
    """Queue a task on a document set; with --wait, follow it and exit 0 on success, 1 on
    any other end (or when the timeout passes)."""
    document_set = db.session.get(DocumentSet, set_id)
    if document_set is None:
        raise click.ClickException(f"No document set {set_id}.")
    owner = (
        db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if email
        else document_set.owner
    )
    if owner is None or not document_set.visible_to(owner):
        raise click.ClickException(f"{email} may not use the set {set_id}.")
    module = task_modules().get(task)
    if module is None:
        raise click.BadParameter(f"one of {', '.join(task_modules())}.", param_hint="--task")
    try:
        parameters = checked_parameters(module, owner, document_set, name_values(pairs, "--param"))
        treatment = service.create_treatment(owner, document_set, module, parameters, notify_email)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Queued {treatment.id}: {module.label} on “{document_set.title}”.")
    if wait:
        ended = follow(lambda: _treatment(treatment.id), every, timeout)
        sys.exit(0 if ended is Status.SUCCESS else 1)


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
