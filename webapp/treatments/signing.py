"""The one place notifications are authenticated: Standard Webhooks signatures, or the
per-treatment token this app puts in notify_url (for APIs that cannot sign, like AIKON's)."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import time

from flask import current_app
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def token_lifetime() -> float:
    """A token outlives the run by the senders' retry horizon, then it opens nothing."""
    config = current_app.config
    return float(config["MAX_RUN_HOURS"] * 3600 + config["RESULTS_HORIZON_SECONDS"])


def notify_token(treatment_id: str, expires: int | None = None) -> str:
    """`<expiry>.<mac>`: the treatment's token, valid until its expiry (a Unix time)."""
    if expires is None:
        expires = int(time.time() + token_lifetime())
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"notify:{treatment_id}:{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def token_is_valid(treatment_id: str, token: str) -> bool:
    expires, _, _ = token.partition(".")
    if not (expires.isascii() and expires.isdigit() and len(expires) < 12):
        return False
    if int(expires) < time.time():
        return False
    # Bytes: compare_digest refuses str holding anything but ASCII, and a token is user input.
    return hmac.compare_digest(
        notify_token(treatment_id, int(expires)).encode(),
        token.encode("utf-8", "surrogateescape"),
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
