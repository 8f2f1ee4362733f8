from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.auth.accounts import create_user, issue_token
from webapp.auth.models import User
from webapp.errors import UserError
from webapp.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="", help="Name shown in the interface.")
@click.option("--admin", is_flag=True, help="Grant administrator rights.")
def create(email: str, password: str, name: str, admin: bool) -> None:
    """Create a user who can log in with EMAIL and the password."""
    try:
        user = create_user(email, password, name=name, is_admin=admin)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {'administrator' if admin else 'user'} {user.email}.")


@users_cli.command("list")
def list_users() -> None:
    """List the accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        flags = ", ".join(
            f for f, on in (("admin", user.is_admin), ("inactive", not user.active)) if on
        )
        click.echo(f"{user.id}\t{user.email}\t{user.name}" + (f"\t({flags})" if flags else ""))


def account(email: str) -> User:
    """The account of that address, for a command that acts as its user."""
    user: User | None = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account {email}.")
    return user


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="script", show_default=True, help="What the token is for.")
def token(email: str, name: str) -> None:
    """Make a personal API token for EMAIL; it is printed once, on the last line."""
    user = account(email)
    try:
        made = issue_token(user, name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"A token named “{name}” for {user.email}; keep it, it is not shown again:")
    click.echo(made)
