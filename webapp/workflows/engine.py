"""Running workflows: each step a treatment; a step that takes another's results flows document
by document (`webapp.workflows.flow`); a workflow's state is its steps' (DESIGN 3), settled
each time one of them moves and by the clock. The rules, without HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import processing_api as api
from webapp.callbacks.signing import secret_of
from webapp.columns import new_uuid, utcnow
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import TERMINAL, Status, aggregate, transition
from webapp.live.publish import publish_treatment
from webapp.quotas.pages import check_pages, count_pages
from webapp.task_modules.registry import task_module, task_modules
from webapp.timeline.record import record, record_now
from webapp.treatments import service as treatments
from webapp.treatments.fair_share import admit
from webapp.treatments.models import Treatment
from webapp.workflows.definitions import Definition, order
from webapp.workflows.flow import feed, flow_from, settle_step
from webapp.workflows.models import Workflow


def start_workflow(
    owner: Any,
    definition: Definition,
    document_set: DocumentSet,
    *,
    callback_url: str | None = None,
    relaunch_of: Workflow | None = None,
) -> Workflow:
    """Commit the workflow and its steps (those with inputs WAITING), then launch the first
    ones. Refused up front when the processing API says it does not run one of the tasks."""
    missing = []
    for task in dict.fromkeys(step["task"] for step in definition.steps):
        module = task_modules().get(task)
        if module is None or api.offers(module.route) is False:
            missing.append(_(module.label) if module else task)
    if missing:
        raise UserError(
            _(
                "The processing API does not run %(tasks)s: the workflow was not started.",
                tasks=", ".join(missing),
            )
        )
    # Each step treats the set's pages once: the workflow takes that many from a page quota.
    module = task_module(next(s["task"] for s in definition.steps if not s.get("inputs")))
    pages = count_pages(db.session.connection(), module.documents(document_set, module.defaults))
    check_pages(owner, pages * len(definition.steps))
    workflow = Workflow(
        owner_id=owner.id,
        name=definition.name,
        steps=definition.steps,
        document_set_id=document_set.id,
        document_set_title=document_set.title,
        callback_url=callback_url,
        relaunch_of_id=relaunch_of.id if relaunch_of else None,
    )
    if callback_url:
        secret_of(owner)
    db.session.add(workflow)
    db.session.flush()
    by_name = {step["name"]: step for step in definition.steps}
    ids = {name: new_uuid() for name in by_name}
    first: list[Treatment] = []
    for name in order(definition.steps):
        step = by_name[name]
        module = task_module(step["task"])
        inputs = step.get("inputs") or {}
        parameters = {
            **module.defaults,
            **step["parameters"],
            **{parameter: ids[source] for parameter, source in inputs.items()},
        }
        waits = bool(inputs)
        treatment = Treatment(
            id=ids[name],
            task_type=module.name,
            owner_id=owner.id,
            document_set_id=document_set.id,
            document_set_title=document_set.title,
            parameters=parameters,
            documents=[] if waits else module.documents(document_set, parameters),
            status=Status.WAITING if waits else Status.PENDING,
            container=waits,
            workflow_id=workflow.id,
            workflow_step=name,
        )
        if not waits and not treatment.documents:
            db.session.rollback()
            raise UserError(_("The document set has no digitized pages to treat."))

        db.session.add(treatment)
        if not waits:
            first.append(treatment)
    record("workflow.relaunch" if relaunch_of else "workflow.run", workflow, actor=owner)
    db.session.commit()
    for treatment in first:
        publish_treatment(treatment)
    admit()
    return workflow


def relaunch_workflow(original: Workflow) -> Workflow:
    """The same definition on the same documents, linked to the original, once it ended."""
    if not original.state.is_terminal:
        raise UserError(_("This workflow is still running: cancel it or wait for its end."))
    document_set = (
        db.session.get(DocumentSet, original.document_set_id) if original.document_set_id else None
    )
    if document_set is None:
        raise UserError(_("Its document set has been deleted."))
    definition = Definition(key="", name=original.name, steps=original.steps)
    return start_workflow(
        original.owner,
        definition,
        document_set,
        callback_url=original.callback_url,
        relaunch_of=original,
    )


def cancel_workflow(workflow: Workflow, by: Any) -> list[str]:
    """Cancel the workflow, then every step that has not ended (at the API for those that
    run); what a step's cancel refused, for the user to read."""
    if workflow.state.is_terminal:
        raise UserError(
            _("This workflow has already ended (%(label)s).", label=workflow.state.label)
        )
    if not transition(workflow, Status.CANCELLED, f"Cancelled by {by.display_name}."):
        raise UserError(_("This workflow ended before it could be cancelled."))
    record_now("workflow.cancel", workflow, actor=by)
    refused = []
    for step in _steps(workflow):
        if step.state.is_terminal:
            continue
        try:
            treatments.cancel(step, by)
        except UserError as exc:
            refused.append(f"{step.workflow_step}: {exc}")
    return refused


def _steps(workflow: Workflow) -> list[Treatment]:
    """The workflow's steps as stored now."""
    return list(
        db.session.scalars(
            select(Treatment)
            .where(Treatment.workflow_id == workflow.id)
            .order_by(Treatment.requested_at)
            .execution_options(populate_existing=True)
        )
    )


def step_moved(step: Treatment, target: Status) -> None:
    """After a step's move is committed: what waits on it runs on what it stored, and the
    workflow is settled."""
    workflow = db.session.get(Workflow, step.workflow_id)
    if workflow is None:
        return
    if target.is_terminal:
        flow_from(step)
    settle_workflow(workflow)


def settle_workflow(workflow: Workflow) -> None:
    """The workflow's state from its steps': IN_PROGRESS once one has started, and the end
    (ERROR if one failed, CANCELLED if one was cancelled, SUCCESS if all succeeded) once all
    have ended."""
    db.session.refresh(workflow)
    if workflow.state.is_terminal:
        return
    states = [t.state for t in _steps(workflow)]
    outcome = aggregate(states)
    if outcome.is_terminal:
        said = f"{states.count(Status.SUCCESS)} of {len(states)} steps succeeded."
        transition(workflow, outcome, said, error=said)
    elif outcome is Status.IN_PROGRESS and workflow.state is not Status.IN_PROGRESS:
        transition(workflow, Status.IN_PROGRESS)
    else:
        workflow.touch()
        db.session.commit()


def dispatch_workflows() -> int:
    """The clock's part: a workflow whose step ended while the worker that was to act on it
    died is moved on, so that nothing waits forever."""
    grace = utcnow() - timedelta(seconds=current_app.config["DISPATCH_GRACE_SECONDS"])
    quiet = list(
        db.session.scalars(
            select(Workflow).where(
                Workflow.status.not_in([s.value for s in TERMINAL]), Workflow.updated_at < grace
            )
        )
    )
    for workflow in quiet:
        for step in _steps(workflow):
            if step.container:
                feed(step)
                settle_step(step)
        settle_workflow(workflow)
    return len(quiet)
