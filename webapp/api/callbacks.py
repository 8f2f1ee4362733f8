"""What the API says of callbacks: the `callback_url` work may be given, the deliveries of one
piece of work, and the secret they are signed with (`/api/v1/callbacks/secret`)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate

from webapp.api.blueprint import ApiBlueprint
from webapp.api.schemas import TOKEN
from webapp.callbacks import signing
from webapp.callbacks.models import CallbackDelivery
from webapp.callbacks.outbox import deliveries_of, send_again
from webapp.extensions import db
from webapp.http import outbound_policy

bp = ApiBlueprint(
    "api_callbacks",
    __name__,
    url_prefix="/api/v1/callbacks",
    description="Callbacks: the secret that signs them (Standard Webhooks).",
)


def _reachable(url: str) -> None:
    """Refuse at once what the outbound policy would refuse for sure: an address literal
    that is not public. Names are checked where they are resolved, at each attempt."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return  # a bracket left open: the URL check refuses it
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        if not parts.netloc.rpartition(":")[2].isdigit():
            return  # not a number: the URL check refuses it
        raise ValidationError(_("The port is not one from 1 to 65535.")) from exc
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    if not outbound_policy(0, 0).permits(host, port, host):
        raise ValidationError(_("Callbacks are not sent to this address."))


def callback_url_field() -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=2000), _reachable],
        metadata={
            "description": "Where a signed summary is POSTed when the work ends "
            "(Standard Webhooks, with the secret of GET /api/v1/callbacks/secret)"
        },
    )


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    webhook_id = fields.String(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf(["waiting", "delivered", "given up"])
    )
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)
    given_up_at = fields.DateTime(allow_none=True)
    resent = fields.Boolean(required=True, metadata={"description": "Sent again by someone"})


class SecretSchema(Schema):
    secret = fields.String(required=True, metadata={"example": "whsec_…"})


def delivery_json(delivery: CallbackDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "url": delivery.url,
        "webhook_id": delivery.webhook_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "due_at": delivery.due_at,
        "delivered_at": delivery.delivered_at,
        "given_up_at": delivery.given_up_at,
        "resent": delivery.resent_by_id is not None,
    }


def deliveries_json(column: str, work_id: str) -> list[dict[str, Any]]:
    return [delivery_json(d) for d in deliveries_of(column, work_id)]


def resent_json(column: str, work_id: str, delivery_id: int) -> dict[str, Any]:
    """Send one of the work's deliveries again; 404 if it is not the work's."""
    delivery = db.session.get(CallbackDelivery, delivery_id)
    if delivery is None or getattr(delivery, column) != work_id:
        abort(404, _("No such callback."))
    return delivery_json(send_again(delivery, current_user))


@bp.get("/secret")
@bp.response(200, SecretSchema)
@bp.doc(security=TOKEN)
def secret() -> dict[str, str]:
    """The secret the token's user's callbacks are signed with."""
    value = signing.secret_of(current_user)
    db.session.commit()
    return {"secret": value}


@bp.post("/secret")
@bp.response(200, SecretSchema)
@bp.doc(security=TOKEN)
def renew_secret() -> dict[str, str]:
    """A new secret: the callbacks sent from now on are signed with it, the old one is void."""
    return {"secret": signing.renew_secret(current_user)}
