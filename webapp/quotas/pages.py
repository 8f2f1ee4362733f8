"""The monthly page quota: pages processed in a calendar month (UTC), and the one check made
wherever work is launched (a treatment, its relaunch or retry, a workflow).

Pages count when a treatment is created (`Treatment.pages`), except a treatment that ended
without ever being started at the API; a workflow step's parts count, not the step.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Connection, and_, func, not_, select

from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page
from webapp.catalog.refs import named_documents
from webapp.columns import utcnow
from webapp.errors import QuotaExceeded
from webapp.extensions import db
from webapp.lifecycle import Status, lock
from webapp.treatments.models import Treatment


def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def counted_against_pages() -> list[ColumnElement[bool]]:
    """The treatments that take from a page quota: not a step (its parts do), not one that
    ended without being started at the API (refused, or cancelled while it waited)."""
    return [
        Treatment.container.is_(False),
        not_(
            and_(
                Treatment.started_at.is_(None),
                Treatment.status.in_([Status.ERROR, Status.CANCELLED]),
            )
        ),
    ]


def count_pages(connection: Connection, documents: list[dict[str, str]]) -> int:
    """The pages of the digitizations those documents name (a witness: all of its own)."""
    digitizations: set[int] = set()
    witnesses: set[int] = set()
    for document in documents:
        named = named_documents(str(document.get("uid", "")))
        if named is None:
            continue
        witness, digitization = named
        if digitization is None:
            witnesses.add(witness)
        else:
            digitizations.add(digitization)
    if not digitizations and not witnesses:
        return 0
    query = (
        select(func.count(Page.id))
        .join(Digitization, Digitization.id == Page.digitization_id)
        .where(Digitization.id.in_(digitizations) | Digitization.witness_id.in_(witnesses))
    )
    return int(connection.scalar(query) or 0)


def pages_used(user_id: int, since: datetime | None = None) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Treatment.pages), 0)).where(
                Treatment.owner_id == user_id,
                Treatment.requested_at >= (since or month_start()),
                *counted_against_pages(),
            )
        )
        or 0
    )


def check_pages(user: User, pages: int) -> None:
    """Refuse work that would take the user past their monthly page quota.

    The user's row is held from here until the caller commits the work, so that two launches
    racing are counted one after the other and never both take the last pages.
    """
    if user.page_quota is None:
        return
    held = lock(User, user.id)
    quota = held.page_quota if held is not None else None
    if quota is None:
        return
    used = pages_used(user.id)
    if used + pages > quota:
        db.session.rollback()
        raise QuotaExceeded(
            _(
                "This would process %(pages)s pages, and your quota is %(quota)s pages a "
                "month: %(used)s are used this month, %(left)s are left. An administrator "
                "can raise it.",
                pages=pages,
                quota=quota,
                used=used,
                left=max(0, quota - used),
            )
        )


def pages_used_by_all() -> dict[int, int]:
    """Every user's pages this month, by user id (who has none is not there)."""
    rows = db.session.execute(
        select(Treatment.owner_id, func.sum(Treatment.pages))
        .where(Treatment.requested_at >= month_start(), *counted_against_pages())
        .group_by(Treatment.owner_id)
    )
    return {owner: int(pages or 0) for owner, pages in rows}
