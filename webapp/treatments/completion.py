"""The completion email of a treatment: an outbox row written with its ending, sent by a job.

The row is written in the transaction that ends the treatment, so an ending always has its
email and never two. It is marked sent only once the SMTP server has accepted the message;
until then the clock queues it again, with a growing delay, however long SMTP or Redis is down.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from smtplib import SMTPException

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from redis.exceptions import RedisError
from sqlalchemy import ForeignKey, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.columns import UTCDateTime, utcnow
from webapp.extensions import Base, db, get_queue, mail
from webapp.i18n import locale_of
from webapp.leases import lease_free, take_lease
from webapp.task_modules.registry import task_module
from webapp.treatments.models import Treatment
from webapp.urls import external_url

log = logging.getLogger(__name__)


class CompletionEmail(Base):
    __tablename__ = "completion_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[str] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


def _job_id(email_id: int) -> str:
    return f"email-{email_id}"


def queue_email(email_id: int) -> None:
    """Best effort: if Redis is down, the clock queues it later."""
    try:
        get_queue().enqueue(send_completion_email, email_id, job_id=_job_id(email_id))
    except RedisError:
        log.warning("could not queue completion email %s; the clock will", email_id)


def _claim(email_id: int) -> bool:
    """Take the email with a lease, so that two jobs never send it both."""
    lease = current_app.config["EMAIL_LEASE_SECONDS"]
    return take_lease(CompletionEmail, email_id, lease, CompletionEmail.sent_at.is_(None))


def _message(treatment: Treatment) -> Message:
    """The email, in its reader's language."""
    with force_locale(locale_of(treatment.owner)):
        return _composed(treatment)


def _composed(treatment: Treatment) -> Message:
    context = {
        "treatment": treatment,
        "module": task_module(treatment.task_type),
        "link": external_url("treatments.detail", treatment_id=treatment.id),
        "app_url": current_app.config["APP_URL"],
    }
    return Message(
        subject="[Scriptorium] "
        + _(
            "%(task)s on “%(set)s”: %(state)s",
            task=_(context["module"].label),
            set=treatment.document_set_title,
            state=treatment.state.label,
        ),
        recipients=[treatment.owner.email],
        body=render_template("treatments/email.txt", **context),
        html=render_template("treatments/email.html", **context),
    )


def retry_delay(attempts: int) -> float:
    """30 s, doubling, at most the configured ceiling."""
    ceiling: float = current_app.config["EMAIL_RETRY_MAX_SECONDS"]
    return float(min(ceiling, 30.0 * 2 ** max(0, attempts - 1)))


def send_completion_email(email_id: int) -> None:
    """RQ job: send it; marked sent only when the SMTP server accepted it."""
    if not _claim(email_id):
        return
    email = db.session.get(CompletionEmail, email_id)
    assert email is not None
    treatment = db.session.get(Treatment, email.treatment_id)
    assert treatment is not None
    try:
        mail.send(_message(treatment))
    except (SMTPException, OSError) as exc:
        email.attempts += 1
        email.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        email.due_at = utcnow() + timedelta(seconds=retry_delay(email.attempts))
        email.claimed_at = None
        db.session.commit()
        log.warning(
            "completion email of %s not sent (attempt %s): %s; trying again at %s",
            treatment.id,
            email.attempts,
            exc,
            email.due_at.isoformat(),
        )
        return
    email.sent_at = utcnow()
    email.attempts += 1
    db.session.commit()


def dispatch_emails() -> int:
    """The clock's part: queue every unsent email that is due and not being sent."""
    due = list(
        db.session.scalars(
            select(CompletionEmail.id).where(
                CompletionEmail.sent_at.is_(None),
                CompletionEmail.due_at <= utcnow(),
                lease_free(CompletionEmail, current_app.config["EMAIL_LEASE_SECONDS"]),
            )
        )
    )
    for email_id in due:
        queue_email(email_id)
    return len(due)
