"""The storage quota: the bytes held by the pages of the digitizations a user added, and the
one check made wherever files are added (an upload, a manifest import)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page
from webapp.errors import QuotaExceeded
from webapp.extensions import db
from webapp.pyramids import pyramid_of

MB = 1_000_000


def _measure(page: Page) -> int:
    path = storage.absolute(page.file)
    total = 0
    for file in (path, pyramid_of(path)):
        try:
            total += file.stat().st_size
        except OSError:
            continue
    return total


def storage_used(user_id: int) -> int:
    """Bytes held by the pages of the digitizations the user added; pages not measured yet
    are measured now, once."""
    mine = select(Digitization.id).where(Digitization.created_by_id == user_id)
    unmeasured = db.session.scalars(
        select(Page).where(Page.digitization_id.in_(mine), Page.bytes.is_(None))
    ).all()
    for page in unmeasured:
        page.bytes = _measure(page)
    if unmeasured:
        db.session.commit()
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Page.bytes), 0)).where(Page.digitization_id.in_(mine))
        )
        or 0
    )


def check_storage(user: User, adding: int = 0) -> None:
    """Refuse files that would take the user past their storage quota (with `adding` = 0:
    refuse once it is used up)."""
    if user.storage_quota_mb is None:
        return
    used = storage_used(user.id)
    quota = user.storage_quota_mb * MB
    if adding == 0 and used >= quota:
        raise QuotaExceeded(
            _(
                "Your storage quota of %(quota)s MB is used up (%(used).1f MB stored). Delete "
                "digitizations you no longer need, or ask an administrator to raise it.",
                quota=user.storage_quota_mb,
                used=used / MB,
            )
        )
    if used + adding > quota:
        raise QuotaExceeded(
            _(
                "Your storage quota is %(quota)s MB and you use %(used).1f MB: "
                "%(adding).1f MB more do not fit. Delete digitizations you no longer need, "
                "or ask an administrator to raise it.",
                quota=user.storage_quota_mb,
                used=used / MB,
                adding=adding / MB,
            )
        )
