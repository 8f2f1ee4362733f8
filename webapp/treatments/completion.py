"""What happens once a treatment ends: one email, when asked for."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from flask import current_app, render_template
from flask_mail import Message
from redis.exceptions import RedisError
from sqlalchemy import update

from webapp.columns import utcnow
from webapp.extensions import db, get_queue, mail
from webapp.logs import about_treatment
from webapp.task_modules.registry import task_module
from webapp.treatments.models import Treatment
from webapp.urls import external_url

log = logging.getLogger(__name__)


def conclude_if_ended(treatment: Treatment) -> None:
    """Queue the completion email once, however many times the end is reported."""
    if not treatment.state.is_terminal or not treatment.notify_email:
        return
    claimed = db.session.execute(
        update(Treatment)
        .where(Treatment.id == treatment.id, Treatment.emailed_at.is_(None))
        .values(emailed_at=utcnow())
    )
    db.session.commit()
    if getattr(claimed, "rowcount", 0):
        try:
            get_queue().enqueue(send_completion_email, treatment.id)
        except RedisError:
            log.exception("could not queue the completion email of %s", treatment.id)


@about_treatment
def send_completion_email(treatment_id: str) -> None:
    """RQ job: a failure to send is logged and never changes the treatment."""
    treatment = db.session.get(Treatment, treatment_id)
    if treatment is None:
        return
    context = {
        "treatment": treatment,
        "module": task_module(treatment.task_type),
        "link": external_url("treatments.detail", treatment_id=treatment.id),
        "app_url": current_app.config["APP_URL"],
    }
    message = Message(
        subject=f"[Scriptorium] {context['module'].label} on “{treatment.document_set_title}”: "
        f"{treatment.state.label}",
        recipients=[treatment.owner.email],
        body=render_template("treatments/email.txt", **context),
        html=render_template("treatments/email.html", **context),
    )
    try:
        mail.send(message)
    except (SMTPException, OSError):
        log.exception("the completion email of treatment %s could not be sent", treatment_id)
