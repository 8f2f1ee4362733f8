"""Treatment pages: launch, list, detail, cancel, relaunch. Someone else's treatment is a 404."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from webapp.callbacks.outbox import deliveries_of
from webapp.document_sets.access import usable_set
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.live.publish import page_context
from webapp.pagination import paginate
from webapp.task_modules.registry import task_module, task_module_or_404, task_modules
from webapp.treatments import bp, service
from webapp.treatments.forms import TreatmentForm, parameters_form
from webapp.treatments.models import Treatment
from webapp.treatments.related import related_work


def visible_or_404(treatment_id: str) -> Treatment:
    treatment = db.session.get(Treatment, treatment_id[:36].lower())
    if treatment is None or not treatment.visible_to(current_user):
        abort(404, _("No such treatment, or not one of yours."))
    return treatment


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    form = TreatmentForm(
        data={
            "document_set": request.args.get("document_set", ""),
            "task_type": request.args.get("task_type", ""),
        }
    )
    form.set_choices(current_user)
    chosen = (
        form.task_type.data if form.task_type.data in task_modules() else next(iter(task_modules()))
    )
    module = task_module(chosen)
    submitted = request.method == "POST" and not form.change_task.data
    document_set = usable_set(current_user, form.shown_set_id())
    subform = parameters_form(
        module, current_user, document_set, request.form if submitted else None
    )
    status = 200
    # Both forms are validated, so that every field shows its error at once.
    if submitted and all([form.validate_on_submit(), subform.validate()]):
        assert document_set is not None  # the choices hold only the user's sets
        try:
            treatment = service.create_treatment(
                current_user,
                document_set,
                module,
                subform.get_api_parameters(),
                bool(form.notify_email.data),
            )
        except UserError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash(
                _(
                    "%(label)s was queued on “%(title)s”.",
                    label=module.label,
                    title=document_set.title,
                ),
                "success",
            )
            return redirect(url_for("treatments.detail", treatment_id=treatment.id))
    elif submitted:
        status = 400
    return render_template(
        "treatments/new.html",
        form=form,
        subform=subform,
        module=module,
        has_sets=bool(form.document_set.choices),
    ), status


@bp.get("/subform")
def subform() -> ResponseReturnValue:
    """The chosen task's options for the chosen set: htmx asks again when either changes."""
    module = task_module_or_404(request.args.get("task_type", ""))
    document_set = usable_set(current_user, request.args.get("document_set"))
    return render_template(
        "treatments/_subform.html",
        module=module,
        subform=parameters_form(module, current_user, document_set),
    )


def listing(mine: bool = False) -> tuple[Pagination, str, str]:
    """The treatments the user may see (`mine`: launched, even by an administrator), filtered
    by the query string, one page of them."""
    # A step's parts are listed on its page, not among the treatments a user launched.
    stmt = select(Treatment).where(Treatment.part_of_id.is_(None))
    stmt = stmt.order_by(Treatment.requested_at.desc())
    if not current_user.is_admin or mine:
        stmt = stmt.where(Treatment.owner_id == current_user.id)
    status = request.args.get("status", "")
    task = request.args.get("task", "")
    if status in Status.__members__:
        stmt = stmt.where(Treatment.status == status)
    if task in task_modules():
        stmt = stmt.where(Treatment.task_type == task)
    pagination = paginate(stmt, current_app.config["PAGE_SIZE"])
    return pagination, status, task


@bp.get("/")
def index() -> ResponseReturnValue:
    pagination, status, task = listing()
    return render_template(
        "treatments/list.html",
        pagination=pagination,
        status=status,
        task=task,
        statuses=list(Status),
        modules=task_modules(),
    )


@bp.get("/<treatment_id>")
def detail(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    module = task_modules().get(treatment.task_type)
    return render_template(
        "treatments/detail.html",
        **page_context(treatment, streamed=False),
        deliveries=deliveries_of("treatment_id", treatment.id),
        parameters=module.parameter_rows(treatment.parameters) if module else [],
        related=related_work(treatment, current_user),
        modules_by_name=task_modules(),
    )


@bp.get("/<treatment_id>/results")
def results(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    module = task_module(treatment.task_type)
    if module.viewer_template is None:
        abort(404)
    return render_template(
        module.viewer_template,
        treatment=treatment,
        module=module,
        **module.viewer(treatment, request.args),
    )


@bp.get("/<treatment_id>/export/<fmt>")
def export(treatment_id: str, fmt: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    module = task_module(treatment.task_type)
    if fmt not in module.exports:
        abort(404)
    return module.export(treatment, fmt)


@bp.post("/<treatment_id>/cancel")
def cancel(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    try:
        service.cancel(treatment, current_user)
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The treatment was cancelled."), "success")
    return redirect(url_for("treatments.detail", treatment_id=treatment.id))


@bp.post("/<treatment_id>/relaunch")
def relaunch(treatment_id: str) -> ResponseReturnValue:
    return _another_run(
        treatment_id,
        service.relaunch,
        _("A new run was queued with the same parameters and documents."),
    )


@bp.post("/<treatment_id>/retry")
def retry(treatment_id: str) -> ResponseReturnValue:
    return _another_run(
        treatment_id,
        service.retry_failed,
        _("The failed documents were queued again; their results will show with this run's."),
    )


def _another_run(
    treatment_id: str, make: Callable[[Treatment], Treatment], said: str
) -> ResponseReturnValue:
    """A new run of the treatment, then its page; or the refusal on the first one's."""
    original = visible_or_404(treatment_id)
    try:
        treatment = make(original)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("treatments.detail", treatment_id=original.id))
    flash(said, "success")
    return redirect(url_for("treatments.detail", treatment_id=treatment.id))


@bp.post("/<treatment_id>/delete")
def delete(treatment_id: str) -> ResponseReturnValue:
    """Its owner (or an admin) deletes an ended treatment with its events and results."""
    treatment = visible_or_404(treatment_id)
    try:
        service.delete(treatment)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("treatments.detail", treatment_id=treatment.id))
    flash(_("The treatment was deleted, with its events and results."), "success")
    return redirect(url_for("treatments.index"))
