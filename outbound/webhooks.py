"""Webhooks as both senders post them: signed with Standard Webhooks (the same `webhook-id`
on every attempt, a fresh timestamp and signature each time), and an answer read as
delivered, worth trying again, or refused for good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks import Webhook

from outbound.policy import Policy
from outbound.transfer import OutboundError, post

# A receiver that answers these may accept later; any other 4xx never will.
RETRY_STATUSES = {408, 429}


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool
    detail: str
    retry_after: float = 0.0
    status: int | None = None


def signed_headers(secret: str, webhook_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    now = datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, now, body),
    }


def deliver(url: str, body: str, headers: dict[str, str], rules: Policy) -> Outcome:
    """POST the body under the outbound policy, and what its answer means."""
    try:
        answer = post(url, rules, data=body.encode(), headers=headers)
    except OutboundError as exc:
        return Outcome(False, exc.transient, str(exc)[:500])
    if 200 <= answer.status < 300:
        return Outcome(True, False, f"HTTP {answer.status}", status=answer.status)
    detail = f"HTTP {answer.status}: {answer.body[:300].decode(errors='replace')}"
    retry_after = answer.headers.get("Retry-After", "")
    wait = float(retry_after) if retry_after.isdigit() else 0.0
    retry = answer.status >= 500 or answer.status in RETRY_STATUSES
    return Outcome(False, retry, detail, wait, answer.status)


def backoff(attempts: int, first: float, ceiling: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling, capped."""
    return float(min(first * 2 ** max(0, attempts - 1), ceiling))
