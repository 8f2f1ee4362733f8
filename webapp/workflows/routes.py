"""Workflow pages: run one, follow it as a graph of its steps, cancel and relaunch it, save a
definition. Someone else's workflow is a 404."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.callbacks.outbox import deliveries_of
from webapp.document_sets.access import usable_set
from webapp.errors import UserError
from webapp.extensions import db
from webapp.live.lists import changes_stream
from webapp.sharing import emails
from webapp.task_modules.registry import task_modules
from webapp.workflows import bp
from webapp.workflows.definitions import (
    DefinitionErrors,
    definition_for,
    definitions_for,
    delete_definition,
    order,
    save_definition,
)
from webapp.workflows.engine import cancel_workflow, relaunch_workflow, start_workflow
from webapp.workflows.forms import DefinitionForm, RunForm
from webapp.workflows.models import Workflow, WorkflowEvent

STOP_POLLING = 286  # htmx stops polling on this status


def workflow_or_404(workflow_id: str) -> Workflow:
    workflow = db.session.get(Workflow, workflow_id[:36].lower())
    if workflow is None or not workflow.visible_to(current_user):
        abort(404, _("No such workflow, or not one of yours."))
    return workflow


def levels(workflow: Workflow) -> list[list[dict[str, Any]]]:
    """The steps by depth, for the graph: each column holds the steps whose inputs all come
    from the columns before it."""
    steps = {s["name"]: s for s in workflow.steps}
    treatments = workflow.step_treatments()
    depth: dict[str, int] = {}
    for name in order(workflow.steps):
        given = (steps[name].get("inputs") or {}).values()
        depth[name] = 1 + max((depth[source] for source in given), default=-1)
    columns: list[list[dict[str, Any]]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name, level in depth.items():
        columns[level].append(
            {
                "name": name,
                "module": task_modules().get(steps[name]["task"]),
                "inputs": sorted(set((steps[name].get("inputs") or {}).values())),
                "treatment": treatments.get(name),
            }
        )
    return columns


def live_context(workflow: Workflow) -> dict[str, Any]:
    """What a workflow's page shows: the one context of its first load and of each poll."""
    events = db.session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.workflow_id == workflow.id)
        .order_by(WorkflowEvent.id)
    )
    return {"workflow": workflow, "levels": levels(workflow), "events": list(events)}


@bp.get("/")
def index() -> ResponseReturnValue:
    form = RunForm()
    form.set_choices(current_user)
    return _index(form)


def _workflows() -> list[Workflow]:
    """The reader's workflows, newest first, as the list loads, streams and polls them."""
    return list(
        db.session.scalars(
            select(Workflow)
            .where(Workflow.owner_id == current_user.id)
            .order_by(Workflow.requested_at.desc())
            .limit(100)
        )
    )


def _index(form: RunForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "workflows/index.html",
        form=form,
        workflows=_workflows(),
        definitions=definitions_for(current_user),
    ), status


@bp.get("/rows")
def rows() -> ResponseReturnValue:
    return render_template("workflows/_rows.html", workflows=_workflows())


@bp.get("/stream")
def list_stream() -> ResponseReturnValue:
    return changes_stream(lambda m: bool(m.get("workflow_id")), admins_see_all=False)


@bp.post("/")
def run() -> ResponseReturnValue:
    form = RunForm()
    form.set_choices(current_user)
    if not form.validate_on_submit():
        return _index(form, 400)
    definition = definition_for(current_user, str(form.definition.data))
    document_set = usable_set(current_user, form.document_set.data)
    if definition is None or document_set is None:
        abort(404)
    try:
        workflow = start_workflow(current_user, definition, document_set)
    except UserError as exc:
        form.definition.errors = [str(exc)]
        return _index(form, 400)
    return redirect(url_for("workflows.detail", workflow_id=workflow.id))


@bp.get("/<workflow_id>")
def detail(workflow_id: str) -> ResponseReturnValue:
    workflow = workflow_or_404(workflow_id)
    return render_template(
        "workflows/detail.html",
        **live_context(workflow),
        deliveries=deliveries_of("workflow_id", workflow.id),
    )


@bp.get("/<workflow_id>/live")
def live(workflow_id: str) -> ResponseReturnValue:
    workflow = workflow_or_404(workflow_id)
    html = render_template("workflows/_live.html", **live_context(workflow))
    return html, STOP_POLLING if workflow.state.is_terminal else 200


@bp.post("/<workflow_id>/cancel")
def cancel(workflow_id: str) -> ResponseReturnValue:
    workflow = workflow_or_404(workflow_id)
    try:
        refused = cancel_workflow(workflow, current_user)
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The workflow was cancelled."), "success")
        for problem in refused:
            flash(problem, "error")
    return redirect(url_for("workflows.detail", workflow_id=workflow.id))


@bp.post("/<workflow_id>/relaunch")
def relaunch(workflow_id: str) -> ResponseReturnValue:
    workflow = workflow_or_404(workflow_id)
    try:
        again = relaunch_workflow(workflow)
    except UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("workflows.detail", workflow_id=workflow.id))
    return redirect(url_for("workflows.detail", workflow_id=again.id))


@bp.post("/definitions/<definition_key>/delete")
def remove_definition(definition_key: str) -> ResponseReturnValue:
    try:
        delete_definition(current_user, definition_key)
    except UserError as exc:
        abort(404, str(exc))
    flash(_("The workflow definition was deleted; the runs made from it are kept."), "success")
    return redirect(url_for("workflows.index"))


@bp.route("/definitions/new", methods=["GET", "POST"])
def new_definition() -> ResponseReturnValue:
    form = DefinitionForm()
    problems: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            steps = json.loads(form.steps.data or "")
        except json.JSONDecodeError as exc:
            problems = {"steps": [_("Not JSON: %(error)s", error=str(exc))]}
        else:
            try:
                save_definition(
                    current_user,
                    form.name.data,
                    steps,
                    str(form.visibility.data),
                    emails(form.shared_with.data),
                )
            except DefinitionErrors as exc:
                problems = exc.fields
            else:
                flash(_("The workflow “%(name)s” was saved.", name=form.name.data), "success")
                return redirect(url_for("workflows.index"))
    status = 400 if problems or form.errors else 200
    return render_template("workflows/definition.html", form=form, problems=problems), status
