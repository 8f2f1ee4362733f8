"""`/api/v1/document-sets`: the sets a user may see; their owner (or an admin) renames,
fills, empties, shares and deletes them, as on the set's page."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate

from webapp.api.blueprint import ApiBlueprint
from webapp.api.schemas import TOKEN, invalid
from webapp.document_sets.access import usable_set, usable_sets
from webapp.document_sets.forms import TITLE_MAX
from webapp.document_sets.members import MEMBER_KINDS, add_member, remove_member
from webapp.document_sets.models import DocumentSet
from webapp.document_sets.service import create_set, delete_set
from webapp.errors import UserError
from webapp.security import DatabaseInteger
from webapp.sharing import VISIBILITIES, share

bp = ApiBlueprint(
    "api_document_sets",
    __name__,
    url_prefix="/api/v1/document-sets",
    description="Document sets: the documents a treatment runs on.",
)


class MemberSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(MEMBER_KINDS)))
    id = fields.Integer(required=True, validate=validate.Range(1, DatabaseInteger.LARGEST))
    label = fields.String(dump_only=True)


class SetSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(1, TITLE_MAX))
    owner = fields.String(dump_only=True)
    visibility = fields.String(dump_only=True)
    shared_with = fields.List(fields.String(), dump_only=True)
    members = fields.List(fields.Nested(MemberSchema), dump_only=True)
    digitizations = fields.Integer(dump_only=True, metadata={"description": "How many in all"})
    page = fields.Url(dump_only=True)


class TitleSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(1, TITLE_MAX))


class SharingSchema(Schema):
    visibility = fields.String(required=True, validate=validate.OneOf(list(VISIBILITIES)))
    shared_with = fields.List(fields.Email(), load_default=list)


def as_json(document_set: DocumentSet, digitizations: int | None = None) -> dict[str, Any]:
    members = [
        {"kind": kind, "id": member.id, "label": getattr(member, "display_label", member.label)}
        for kind, spec in MEMBER_KINDS.items()
        for member in getattr(document_set, spec.attribute)
    ]
    return {
        "id": document_set.id,
        "title": document_set.title,
        "owner": document_set.owner.email,
        "visibility": document_set.visibility,
        "shared_with": [user.email for user in document_set.shared_with],
        "members": members,
        "digitizations": (
            DocumentSet.digitization_counts([document_set.id])[document_set.id]
            if digitizations is None
            else digitizations
        ),
        "page": url_for("document_sets.detail", set_id=document_set.id, _external=True),
    }


def _visible(set_id: int) -> DocumentSet:
    document_set = usable_set(current_user, str(set_id))
    if document_set is None:
        abort(404, _("No such document set, or not one you may see."))
    return document_set


def _editable(set_id: int) -> DocumentSet:
    document_set = _visible(set_id)
    if not document_set.editable_by(current_user):
        abort(404, _("No such document set of yours."))
    return document_set


@bp.get("/")
@bp.response(200, SetSchema(many=True))
@bp.doc(security=TOKEN)
def list_sets() -> list[dict[str, Any]]:
    """The sets the user may see: their own, shared with them, public."""
    sets = usable_sets(current_user, members=True)
    counts = DocumentSet.digitization_counts([s.id for s in sets])
    return [as_json(s, counts[s.id]) for s in sets]


@bp.post("/")
@bp.arguments(TitleSchema)
@bp.response(201, SetSchema)
@bp.doc(security=TOKEN)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """A new, empty, private set of the user's."""
    title = body["title"].strip()
    if not title:
        invalid({"title": [_("Give the set a title.")]})
    return as_json(create_set(current_user, title))


@bp.get("/<int:set_id>")
@bp.response(200, SetSchema)
@bp.doc(security=TOKEN)
def get(set_id: int) -> dict[str, Any]:
    return as_json(_visible(set_id))


@bp.delete("/<int:set_id>")
@bp.response(204)
@bp.doc(security=TOKEN)
def delete(set_id: int) -> None:
    """The set; its treatments stay, with the set's title."""
    delete_set(_editable(set_id))


@bp.post("/<int:set_id>/members")
@bp.arguments(MemberSchema)
@bp.response(200, SetSchema)
@bp.doc(security=TOKEN)
def add(body: dict[str, Any], set_id: int) -> dict[str, Any]:
    """Add a work, series, witness or digitization of the catalogue."""
    document_set = _editable(set_id)
    try:
        add_member(document_set, body["kind"], body["id"])
    except UserError as exc:
        invalid({"id": [str(exc)]})
    return as_json(document_set)


@bp.delete("/<int:set_id>/members/<kind>/<int:member_id>")
@bp.response(200, SetSchema)
@bp.doc(security=TOKEN)
def remove(set_id: int, kind: str, member_id: int) -> dict[str, Any]:
    document_set = _editable(set_id)
    try:
        remove_member(document_set, kind, member_id)
    except UserError as exc:
        abort(404, str(exc))
    return as_json(document_set)


@bp.put("/<int:set_id>/sharing")
@bp.arguments(SharingSchema)
@bp.response(200, SetSchema)
@bp.doc(security=TOKEN)
def sharing(body: dict[str, Any], set_id: int) -> dict[str, Any]:
    """Who may see it: private, shared with the accounts named, or public."""
    document_set = _editable(set_id)
    try:
        share(document_set, body["visibility"], body["shared_with"])
    except UserError as exc:
        invalid({"shared_with": [str(exc)]})
    return as_json(document_set)
