"""Who may see and who may change what a user owns and may share (document sets, workflow
definitions): its owner and administrators; everyone when public; named users when shared."""

from __future__ import annotations

from typing import Any

from webapp.i18n import N_

VISIBILITIES = {
    "private": N_("Private"),
    "shared": N_("Shared with named users"),
    "public": N_("Public"),
}


def visible(thing: Any, user: Any) -> bool:
    return bool(
        user.is_admin
        or thing.owner_id == user.id
        or thing.visibility == "public"
        or (thing.visibility == "shared" and user in thing.shared_with)
    )


def editable(thing: Any, user: Any) -> bool:
    return bool(user.is_admin or thing.owner_id == user.id)
