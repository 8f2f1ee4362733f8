"""The one place notifications are authenticated: Standard Webhooks signatures, or the
per-treatment token this app puts in notify_url (for APIs that cannot sign, like AIKON's)."""

from __future__ import annotations

import binascii
import hashlib
import hmac

from flask import current_app
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def notify_token(treatment_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"notify:{treatment_id}".encode(), hashlib.sha256).hexdigest()


def token_is_valid(treatment_id: str, token: str) -> bool:
    # Bytes: compare_digest refuses str holding anything but ASCII, and a token is user input.
    return hmac.compare_digest(
        notify_token(treatment_id).encode(), token.encode("utf-8", "surrogateescape")
    )


def has_signature(headers: dict[str, str]) -> bool:
    return any(headers.get(name) for name in SIGNATURE_HEADERS)


def signature_is_valid(body: bytes, headers: dict[str, str]) -> bool:
    """True for a signature made with WEBHOOK_SECRET within the 5-minute window."""
    secret = current_app.config["WEBHOOK_SECRET"]
    if not secret:
        return False
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return True
