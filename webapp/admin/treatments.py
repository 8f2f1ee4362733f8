"""Every treatment for administrators: filters, search, order, and actions on many at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, or_, select
from werkzeug.datastructures import MultiDict

from webapp.auth.models import User
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.task_modules.registry import task_modules
from webapp.timeline.record import record_now
from webapp.treatments import service
from webapp.treatments.models import Treatment

SORTS: dict[str, ColumnElement[Any]] = {
    "newest": Treatment.requested_at.desc(),
    "oldest": Treatment.requested_at.asc(),
    "status": Treatment.status.asc(),
    "task": Treatment.task_type.asc(),
}
SORT_LABELS = {
    "newest": N_("Newest"),
    "oldest": N_("Oldest"),
    "status": N_("Status"),
    "task": N_("Task"),
}


def parse_day(text: str | None) -> date | None:
    """A day to filter by; one that is not a date, or the last one a calendar has (whose
    next day would not exist), is no filter."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or day < date.max else None


@dataclass
class Filters:
    # Several states at once (failed or cancelled): none, every state.
    statuses: tuple[str, ...] = ()
    task: str = ""
    user: str = ""
    document_set: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> Filters:
        task = args.get("task", "")
        sort = args.get("sort", "newest")
        return cls(
            statuses=tuple(
                s for s in dict.fromkeys(args.getlist("status")) if s in Status.__members__
            ),
            task=task if task in task_modules() else "",
            user=args.get("user", "").strip()[:254],
            document_set=args.get("document_set", "").strip()[:200],
            since=parse_day(args.get("since")),
            until=parse_day(args.get("until")),
            q=args.get("q", "").strip()[:200],
            sort=sort if sort in SORTS else "newest",
        )

    def query(self) -> Select[Treatment]:
        stmt = select(Treatment).join(User, User.id == Treatment.owner_id)
        if self.statuses:
            stmt = stmt.where(Treatment.status.in_(self.statuses))
        if self.task:
            stmt = stmt.where(Treatment.task_type == self.task)
        if self.user:
            stmt = stmt.where(User.email.icontains(self.user, autoescape=True))
        if self.document_set:
            stmt = stmt.where(
                Treatment.document_set_title.icontains(self.document_set, autoescape=True)
            )
        if self.since:
            stmt = stmt.where(Treatment.requested_at >= datetime.combine(self.since, time(), UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            stmt = stmt.where(Treatment.requested_at < end)
        if self.q:
            stmt = stmt.where(
                or_(
                    Treatment.id.icontains(self.q, autoescape=True),
                    Treatment.tracking_id.icontains(self.q, autoescape=True),
                    Treatment.document_set_title.icontains(self.q, autoescape=True),
                    Treatment.error.icontains(self.q, autoescape=True),
                )
            )
        return stmt.order_by(SORTS[self.sort], Treatment.id)

    def args(self) -> dict[str, Any]:
        """The filters as a query string, for links that keep them."""
        values: dict[str, Any] = {
            "status": list(self.statuses),
            "task": self.task,
            "user": self.user,
            "document_set": self.document_set,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.q,
            "sort": self.sort,
        }
        return {key: value for key, value in values.items() if value}


@dataclass
class BulkOutcome:
    done: int = 0
    refused: list[str] | None = None


def bulk(action: str, ids: list[str], by: User) -> BulkOutcome:
    """Relaunch, cancel or delete the chosen treatments; what could not be done is said."""
    outcome = BulkOutcome(refused=[])
    treatments = db.session.scalars(select(Treatment).where(Treatment.id.in_(ids))).all()
    for treatment in treatments:
        try:
            if action == "relaunch":
                service.relaunch(treatment)
            elif action == "cancel":
                service.cancel(treatment, by)
            elif action == "delete":
                service.delete(treatment)
            else:
                raise UserError(_("Unknown action %(action)s.", action=repr(action)))
            outcome.done += 1
        except UserError as exc:
            assert outcome.refused is not None
            outcome.refused.append(f"{treatment.id[:8]}: {exc}")
    record_now(
        "admin.treatments",
        actor=by,
        outcome="failure" if outcome.refused and not outcome.done else "success",
        details={"action": action, "done": outcome.done, "refused": outcome.refused},
    )
    return outcome
