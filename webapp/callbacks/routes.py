"""The pages' callback actions: send one again, from the page of the work it reports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from webapp.callbacks.models import CallbackDelivery
from webapp.callbacks.outbox import send_again
from webapp.extensions import db
from webapp.tasks.models import Task
from webapp.treatments.models import Treatment

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


@bp.post("/<int:delivery_id>/resend")
def resend(delivery_id: int) -> ResponseReturnValue:
    """Whoever may see the work may send its callback again (404 for anyone else)."""
    delivery = db.session.get(CallbackDelivery, delivery_id)
    if delivery is None:
        abort(404)
    if delivery.treatment_id:
        work: Treatment | Task | None = db.session.get(Treatment, delivery.treatment_id)
        page = url_for("treatments.detail", treatment_id=delivery.treatment_id)
    else:
        work = db.session.get(Task, delivery.task_id)
        page = url_for("tasks.detail", task_id=delivery.task_id)
    if work is None or not work.visible_to(current_user):
        abort(404)
    send_again(delivery, current_user)
    flash(_("The callback is being sent again."), "success")
    return redirect(f"{page}#callbacks")
