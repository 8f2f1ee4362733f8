"""What a treatment keeps and says when it moves (the lifecycle's hooks for treatments)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from webapp.columns import utcnow
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.publish import publish_treatment
from webapp.treatments.completion import CompletionEmail, queue_email
from webapp.treatments.models import Treatment, TreatmentEvent


def record_move(treatment: Treatment, target: Status, text: str, cause: Any) -> None:
    """The move in the history (on the notification that caused it, or as a row of its own),
    and, for an ending with an email asked for, the email's outbox row: one per ending."""
    said = f"→ {target.recorded_label}" + (f": {text}" if text else "")
    if isinstance(cause, TreatmentEvent):
        cause.outcome = " ".join(filter(None, [cause.outcome, said]))
    else:
        now = utcnow()
        db.session.add(
            TreatmentEvent(
                treatment_id=treatment.id,
                event=target.value,
                kind="move",
                dedupe_key=f"move-{uuid.uuid4().hex}",
                payload={"status": target.value, "message": text},
                received_at=now,
                processed_at=now,
                outcome=said,
            )
        )
    if target.is_terminal and treatment.notify_email:
        db.session.add(CompletionEmail(treatment_id=treatment.id))


def announce_move(treatment: Treatment, target: Status) -> None:
    publish_treatment(treatment)
    if treatment.workflow_id:
        from webapp.workflows.engine import step_moved

        step_moved(treatment, target)
    if treatment.part_of_id:
        from webapp.workflows.flow import part_moved

        part_moved(treatment, target)
    if target.is_terminal and treatment.admitted_at is not None:
        from webapp.treatments.fair_share import admit

        admit()  # its place is free: the next one waiting takes it
    if target.is_terminal and treatment.notify_email:
        email_id = db.session.scalar(
            select(CompletionEmail.id).where(CompletionEmail.treatment_id == treatment.id)
        )
        if email_id is not None:
            queue_email(email_id)
