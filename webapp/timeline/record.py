"""Recording a change on the timeline, and reading it back: the one way every part of the app
notes what a user or an administrator did."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import Select, delete, inspect, select

from webapp.columns import utcnow
from webapp.extensions import db
from webapp.i18n import N_
from webapp.inserted import insert_row
from webapp.timeline.models import TimelineEntry

# What each action is called on the pages; administrators' actions and accounts' security
# are kept when the rest is purged.
ACTIONS: dict[str, str] = {
    "treatment.launch": N_("Launched a treatment"),
    "treatment.cancel": N_("Cancelled a treatment"),
    "treatment.relaunch": N_("Relaunched a treatment"),
    "treatment.retry": N_("Retried a treatment's failed documents"),
    "treatment.delete": N_("Deleted a treatment"),
    "workflow.run": N_("Ran a workflow"),
    "workflow.cancel": N_("Cancelled a workflow"),
    "workflow.relaunch": N_("Relaunched a workflow"),
    "workflow.save": N_("Saved a workflow definition"),
    "workflow.delete": N_("Deleted a workflow definition"),
    "task.start": N_("Started a task"),
    "task.cancel": N_("Cancelled a task"),
    "task.delete": N_("Deleted a task"),
    "set.create": N_("Created a document set"),
    "set.rename": N_("Renamed a document set"),
    "set.delete": N_("Deleted a document set"),
    "set.add": N_("Added a document to a set"),
    "set.remove": N_("Removed a document from a set"),
    "sharing": N_("Changed who may see it"),
    "catalog.create": N_("Added to the catalogue"),
    "catalog.edit": N_("Edited a catalogue entry"),
    "catalog.import": N_("Imported images into a witness"),
    "account.password": N_("Changed their password"),
    "account.token": N_("Made an API token"),
    "account.token_revoke": N_("Revoked an API token"),
    "account.webhook_secret": N_("Renewed their callback secret"),
    "account.settings": N_("Changed their settings"),
    "admin.user": N_("Changed an account"),
    "admin.password_reset": N_("Reset an account's password"),
    "admin.treatments": N_("Acted on treatments in bulk"),
    "admin.job": N_("Acted on a failed job"),
}
KEPT_PREFIXES = ("admin.", "account.password", "account.token")
# A flow's action is `flow.<its name>`, called by the flow's own label.
FLOW_PREFIX = "flow."
LABELLED_BY = ("timeline_label", "label", "title", "siglum", "name", "display_label", "email")


def kind_of(model: type[Any]) -> str:
    """A model's kind on the timeline: its class's name in snake case (document_set)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def described(target: Any) -> tuple[str, str, str]:
    """An object as the timeline names it: its kind, its id, its label now."""
    if inspect(target).pending:
        db.session.flush()  # its id is the database's
    identity = inspect(target).identity
    label = next((str(value) for name in LABELLED_BY if (value := getattr(target, name, None))), "")
    return kind_of(type(target)), str(identity[0]) if identity else "", label[:300]


def entry_values(
    action: str,
    target: Any = None,
    *,
    actor: Any = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    subject: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """What a timeline entry holds. The actor is the request's user (or a task's owner), else
    `actor` (a command's, a worker's); `subject` names an object that `target` cannot
    describe."""
    if has_request_context() and current_user.is_authenticated:
        actor = current_user
    kind, ident, label = subject or (described(target) if target is not None else ("", "", ""))
    return {
        "actor_id": actor.id if actor is not None else None,
        "actor": actor.display_name[:200] if actor is not None else "",
        "actor_email": actor.email if actor is not None else "",
        "action": action,
        "object_kind": kind,
        "object_id": ident,
        "object_label": label,
        "outcome": outcome,
        "details": details or {},
        "kept": action.startswith(KEPT_PREFIXES),
    }


def record(action: str, target: Any = None, **given: Any) -> None:
    """Note a change in the session, to be committed with the change itself (or by
    `record_now`); `given` as `entry_values` takes it."""
    # One INSERT, committed or rolled back with the change it notes (webapp.inserted).
    insert_row(TimelineEntry, entry_values(action, target, **given))


def record_now(action: str, target: Any = None, **given: Any) -> None:
    """Note a change made and committed already."""
    record(action, target, **given)
    db.session.commit()


def action_label(action: str) -> str:
    from flask_babel import gettext

    if action.startswith(FLOW_PREFIX):
        from webapp.flows.engine import flows

        flow_class = flows().get(action.removeprefix(FLOW_PREFIX))
        if flow_class is not None:
            return str(gettext(flow_class.label))
    return str(gettext(ACTIONS[action])) if action in ACTIONS else action


def entries_of(target: Any, limit: int = 20) -> list[TimelineEntry]:
    """The latest changes of an object, for its page."""
    kind, ident, _label = described(target)
    return list(db.session.scalars(about(kind, ident).limit(limit)))


def about(kind: str, ident: str) -> Select[TimelineEntry]:
    return newest_first().where(TimelineEntry.object_kind == kind, TimelineEntry.object_id == ident)


def newest_first() -> Select[TimelineEntry]:
    return select(TimelineEntry).order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())


@dataclass(frozen=True)
class Filters:
    """What a listing of the timeline is narrowed to; empty fields narrow nothing."""

    action: str = ""
    object_kind: str = ""
    object_id: str = ""
    outcome: str = ""
    actor: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def applied(self, stmt: Select[TimelineEntry]) -> Select[TimelineEntry]:
        exact = {
            TimelineEntry.action: self.action,
            TimelineEntry.object_kind: self.object_kind,
            TimelineEntry.object_id: self.object_id,
            TimelineEntry.outcome: self.outcome,
        }
        for column, value in exact.items():
            if value:
                stmt = stmt.where(column == value)
        if self.actor:
            stmt = stmt.where(TimelineEntry.actor_email.contains(self.actor.strip().lower()))
        if self.since:
            stmt = stmt.where(TimelineEntry.at >= self.since)
        if self.until:
            stmt = stmt.where(TimelineEntry.at < self.until)
        return stmt


def known_actions() -> list[str]:
    """Every action recorded so far, for a filter's choices."""
    return list(db.session.scalars(select(TimelineEntry.action).distinct().order_by("action")))


def purge_timeline(older_than: timedelta, dry_run: bool = False) -> int:
    """Forget the changes older than the age, but what administrators must keep."""
    old = (TimelineEntry.at < utcnow() - older_than) & TimelineEntry.kept.is_(False)
    if dry_run:
        return len(db.session.scalars(select(TimelineEntry.id).where(old)).all())
    return int(getattr(db.session.execute(delete(TimelineEntry).where(old)), "rowcount", 0))
