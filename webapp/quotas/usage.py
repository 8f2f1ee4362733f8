"""A user's use against their quotas, as their account page and the administrators show it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp.auth.models import User
from webapp.columns import utcnow
from webapp.extensions import db
from webapp.quotas.pages import counted_against_pages, month_start, pages_used
from webapp.quotas.storage import MB, storage_used
from webapp.task_modules.registry import task_modules
from webapp.treatments.models import Treatment


@dataclass(frozen=True)
class Usage:
    """A user's use against their quotas; a quota of None is no limit."""

    pages: int
    page_quota: int | None
    storage_bytes: int
    storage_quota_mb: int | None

    @property
    def storage_mb(self) -> float:
        return self.storage_bytes / MB

    @property
    def pages_left(self) -> int | None:
        return None if self.page_quota is None else max(0, self.page_quota - self.pages)


def usage_of(user: User) -> Usage:
    return Usage(pages_used(user.id), user.page_quota, storage_used(user.id), user.storage_quota_mb)


@dataclass(frozen=True)
class ReportRow:
    """One month's work of one task, as a task report counts it."""

    month: str
    task: str
    treatments: int
    pages: int
    seconds: float


def report(user_id: int, months: int = 12) -> list[ReportRow]:
    """The user's treatments of the last `months` months by month and task, newest first:
    how many, the pages they took from the quota, and the time they ran at the API (started
    to ended, or to now for one still running)."""
    since = month_start()
    for _ in range(months - 1):
        since = month_start(since - timedelta(days=1))
    now = utcnow()
    rows = db.session.execute(
        select(
            Treatment.requested_at,
            Treatment.task_type,
            Treatment.pages,
            Treatment.started_at,
            Treatment.finished_at,
        ).where(
            Treatment.owner_id == user_id,
            Treatment.requested_at >= since,
            *counted_against_pages(),
        )
    )
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for requested, task, pages, started, finished in rows:
        total = totals[(requested.strftime("%Y-%m"), task)]
        total[0] += 1
        total[1] += pages
        if started is not None:
            total[2] += ((finished or now) - started).total_seconds()
    return [
        ReportRow(month, task, int(count), int(pages), seconds)
        for (month, task), (count, pages, seconds) in sorted(
            sorted(totals.items(), key=lambda item: item[0][1]),
            key=lambda item: item[0][0],
            reverse=True,
        )
    ]


def usage_page(user: User) -> dict[str, Any]:
    """What `_usage.html` shows of a user."""
    return {
        "usage": usage_of(user),
        "report": report(user.id),
        "limit": current_app.config["MAX_RUNNING_PER_USER"],
        "modules": task_modules(),
    }
