"""Creating, relaunching, cancelling and deleting treatments: the rules, without HTTP."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete as sql_delete

from webapp import processing_api as api
from webapp.auth.models import User
from webapp.callbacks.signing import secret_of
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status, transition
from webapp.live.publish import publish_removed, publish_treatment
from webapp.quotas.pages import check_pages, count_pages
from webapp.task_modules.base import TaskModule
from webapp.task_modules.registry import task_module
from webapp.timeline.record import record, record_now
from webapp.treatments.fair_share import admit
from webapp.treatments.models import Treatment

log = logging.getLogger(__name__)


def _submit(treatment: Treatment, action: str) -> Treatment:
    """Commit the treatment as PENDING, with its timeline entry, and only then queue its
    launch (DESIGN 3). Refused when it would pass its owner's page quota."""
    owner = db.session.get(User, treatment.owner_id)
    assert owner is not None
    check_pages(owner, count_pages(db.session.connection(), treatment.documents))
    db.session.add(treatment)
    record(action, treatment, actor=owner)
    db.session.commit()
    publish_treatment(treatment)
    admit()
    return treatment


def create_treatment(
    owner: User,
    document_set: DocumentSet,
    module: TaskModule,
    parameters: dict[str, Any],
    notify_email: bool,
    callback_url: str | None = None,
) -> Treatment:
    """Commit a PENDING treatment, then queue its launch."""
    merged = {**module.defaults, **parameters}
    documents = module.documents(document_set, merged)
    if not documents:
        raise UserError(_("The document set has no digitized pages to treat."))
    treatment = Treatment(
        task_type=module.name,
        owner_id=owner.id,
        document_set_id=document_set.id,
        document_set_title=document_set.title,
        parameters=merged,
        documents=documents,
        notify_email=notify_email,
        callback_url=callback_url,
    )
    if callback_url:
        secret_of(owner)  # for its owner to verify the callback with, before it comes
    return _submit(treatment, "treatment.launch")


def relaunch(original: Treatment) -> Treatment:
    """A new treatment with the same task, parameters and documents, linked to the original.

    Only an ended treatment is relaunched: two runs of the same work would race each other.
    """
    if not original.state.is_terminal:
        raise UserError(
            _(
                "This treatment is still running (%(label)s): "
                "cancel it or wait for it to end before relaunching it.",
                label=original.state.label,
            )
        )
    return _another_run(
        original, original.documents, "treatment.relaunch", relaunch_of_id=original.id
    )


def retry_failed(original: Treatment) -> Treatment:
    """A new treatment on exactly the documents an ended one failed on, with its parameters,
    linked to it: its results are shown with the original's."""
    failed = original.failed_documents
    if not failed:
        raise UserError(_("This treatment has no failed documents to retry."))
    return _another_run(original, failed, "treatment.retry", retry_of_id=original.id)


def _another_run(
    original: Treatment, documents: list[dict[str, str]], action: str, **link: str
) -> Treatment:
    """A new run of an ended treatment's task and parameters on these documents, linked to it."""
    return _submit(
        original.another_run(
            documents,
            notify_email=original.notify_email,
            callback_url=original.callback_url,
            **link,
        ),
        action,
    )


def cancel(treatment: Treatment, by: User) -> None:
    """Stop the work at the API, then mark it CANCELLED; if the API refuses, nothing changes."""
    if treatment.state.is_terminal:
        raise UserError(
            _("This treatment has already ended (%(label)s).", label=treatment.state.label)
        )
    for part in treatment.parts() if treatment.container else []:
        if not part.state.is_terminal:
            cancel(part, by)
    if treatment.tracking_id:
        try:
            api.cancel(task_module(treatment.task_type).route, treatment.tracking_id)
        except api.APIError as exc:
            raise UserError(
                _("The processing API did not cancel the treatment: %(exc)s", exc=exc)
            ) from exc
    if not transition(treatment, Status.CANCELLED, f"Cancelled by {by.display_name}."):
        raise UserError(
            _(
                "This treatment ended before it could be cancelled (%(label)s).",
                label=treatment.state.label,
            )
        )
    record_now("treatment.cancel", treatment, actor=by)


def delete(treatment: Treatment) -> None:
    """The treatment, its events and every result it stored (their tables cascade). Only an
    ended one: a running one is cancelled first."""
    if not treatment.state.is_terminal:
        raise UserError(_("Cancel it first: it is still running."))
    record("treatment.delete", treatment)
    db.session.execute(sql_delete(Treatment).where(Treatment.id == treatment.id))
    db.session.commit()
    publish_removed("treatment", treatment.id, treatment.owner_id)
