"""Account rules shared by the web pages and the command line."""

from __future__ import annotations

import hmac
import secrets
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth.forms import MIN_PASSWORD
from webapp.auth.models import ApiToken, User
from webapp.errors import UserError
from webapp.extensions import db, login_manager
from webapp.timeline.record import record


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie, while its session token is the current one."""
    number, _colon, token = user_id.partition(":")
    if not number.isdigit() or len(number) > 18:
        return None
    user = db.session.get(User, int(number))
    if user is None or not hmac.compare_digest(token.encode(), user.session_token.encode()):
        return None
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str, *, name: str = "", is_admin: bool = False) -> User:
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise UserError(_("Not a valid email address: %(exc)s", exc=exc)) from exc
    if len(password) < MIN_PASSWORD:
        raise UserError(
            _(
                "The password must have at least %(MIN_PASSWORD)s characters.",
                MIN_PASSWORD=MIN_PASSWORD,
            )
        )
    if find_user(address):
        raise UserError(_("A user with the email %(address)s already exists.", address=address))
    user = User(email=address, name=name.strip(), is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@cache
def _stand_in_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None. An unknown or inactive account costs
    the same password check as a known one, so the time taken tells nothing."""
    user = find_user(email)
    if user is None:
        check_password_hash(_stand_in_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


TOKEN_NAME_LENGTH = 100


def issue_token(user: User, name: str) -> str:
    """A new personal API token for the user, named; the token itself, which is kept nowhere."""
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_LENGTH:
        raise UserError(
            _(
                "Name the token in 1 to %(TOKEN_NAME_LENGTH)s characters.",
                TOKEN_NAME_LENGTH=TOKEN_NAME_LENGTH,
            )
        )
    row, token = ApiToken.issue(user, name)
    db.session.add(row)
    record("account.token", user, actor=user, details={"name": name})
    db.session.commit()
    return token


def revoke_token(user: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise UserError(_("No such token of yours."))
    record("account.token_revoke", user, actor=user, details={"name": row.name})
    db.session.delete(row)
    db.session.commit()
