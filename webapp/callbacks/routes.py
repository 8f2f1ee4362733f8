"""The pages' callback actions: send one again, from the page of the work it reports."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from webapp.callbacks.models import CallbackDelivery
from webapp.callbacks.outbox import send_again, work_of
from webapp.extensions import db

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


@bp.post("/<int:delivery_id>/resend")
def resend(delivery_id: int) -> ResponseReturnValue:
    """Whoever may see the work may send its callback again (404 for anyone else)."""
    delivery = db.session.get(CallbackDelivery, delivery_id)
    work = work_of(delivery) if delivery is not None else None
    if delivery is None or work is None or not work.visible_to(current_user):
        abort(404)
    send_again(delivery, current_user)
    flash(_("The callback is being sent again."), "success")
    return redirect(f"{urlsplit(work.callback_links()['page']).path}#callbacks")
