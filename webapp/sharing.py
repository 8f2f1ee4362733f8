"""Who may see and who may change what a user owns and may share (document sets, workflow
definitions): its owner and administrators; everyone when public; named users when shared."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import inspect

from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_

VISIBILITIES = {
    "private": N_("Private"),
    "shared": N_("Shared with named users"),
    "public": N_("Public"),
}


def emails(text: str | None) -> list[str]:
    """The emails of a form's field, one per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def share(thing: Any, visibility: str, addresses: list[str]) -> None:
    """Set who may see it: its visibility and the accounts it is shared with; an email with
    no account refuses the whole change."""
    from webapp.auth.accounts import find_user

    if visibility not in VISIBILITIES:
        raise UserError(
            _("Visibility is one of %(VISIBILITIES)s.", VISIBILITIES=", ".join(VISIBILITIES))
        )
    users = [find_user(email) for email in addresses]
    unknown = [email for email, user in zip(addresses, users, strict=True) if user is None]
    if unknown:
        raise UserError(_("No account for: %(unknown)s.", unknown=", ".join(unknown)))
    from webapp.timeline.record import record

    if not inspect(thing).pending:  # a new one's creation says it
        record("sharing", thing, details={"visibility": visibility, "shared_with": addresses})
    thing.visibility = visibility
    thing.shared_with = [u for u in users if u is not None]
    db.session.commit()


def visible(thing: Any, user: Any) -> bool:
    return bool(
        user.is_admin
        or thing.owner_id == user.id
        or thing.visibility == "public"
        or (thing.visibility == "shared" and user in thing.shared_with)
    )


def editable(thing: Any, user: Any) -> bool:
    return bool(user.is_admin or thing.owner_id == user.id)
