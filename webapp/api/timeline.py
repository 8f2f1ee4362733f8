"""`/api/v1/timeline`: the changes the token's user made (an administrator: everyone's),
newest first, filtered as the admin area filters them."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields, validate

from webapp.api.blueprint import ApiBlueprint
from webapp.api.schemas import TOKEN, PageArgs, listing, page_schema
from webapp.timeline.models import OUTCOMES, TimelineEntry
from webapp.timeline.record import Filters, action_label, newest_first

bp = ApiBlueprint(
    "api_timeline",
    __name__,
    url_prefix="/api/v1/timeline",
    description="The timeline: every change, who made it, to what, when, how it ended.",
)


class TimelineEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    actor_email = fields.String(required=True)
    action = fields.String(required=True)
    action_label = fields.String(required=True)
    object_kind = fields.String(required=True)
    object_id = fields.String(required=True)
    object_label = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    details = fields.Dict(required=True)
    kept = fields.Boolean(required=True, metadata={"description": "Never purged"})


class TimelineArgs(PageArgs):
    action = fields.String(validate=validate.Length(1, 60))
    object_kind = fields.String(validate=validate.Length(1, 30))
    object_id = fields.String(validate=validate.Length(1, 40))
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    actor = fields.String(
        validate=validate.Length(1, 254),
        metadata={"description": "Part of the actor's email (administrators)"},
    )
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "action_label": action_label(entry.action),
        "object_kind": entry.object_kind,
        "object_id": entry.object_id,
        "object_label": entry.object_label,
        "outcome": entry.outcome,
        "details": entry.details,
        "kept": entry.kept,
    }


@bp.get("/")
@bp.arguments(TimelineArgs, location="query")
@bp.response(200, page_schema(TimelineEntrySchema))
@bp.doc(security=TOKEN)
def list_entries(args: dict[str, Any]) -> dict[str, Any]:
    """The changes made by the token's user; an administrator's token lists everyone's, and
    may ask for one actor's (by part of their email)."""
    stmt = newest_first()
    if not current_user.is_admin:
        stmt = stmt.where(TimelineEntry.actor_id == current_user.id)
    chosen = Filters(
        action=args.get("action", ""),
        object_kind=args.get("object_kind", ""),
        object_id=args.get("object_id", ""),
        outcome=args.get("outcome", ""),
        actor=args.get("actor", "") if current_user.is_admin else "",
        since=args.get("since"),
        until=args.get("until"),
    )
    return listing(chosen.applied(stmt), args, entry_json)
