"""Running workflows: each step a treatment, started once the steps it takes inputs from have
succeeded; a workflow's state is its steps' (DESIGN 3), settled each time one of them moves
and by the clock. The rules, without HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import processing_api as api
from webapp.callbacks.signing import secret_of
from webapp.columns import utcnow
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.lifecycle import TERMINAL, Status, aggregate, transition
from webapp.live.publish import publish_treatment
from webapp.task_modules.registry import task_module, task_modules
from webapp.treatments import service as treatments
from webapp.treatments.launch import enqueue_launch
from webapp.treatments.models import Treatment
from webapp.workflows.definitions import Definition, order
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
    first: list[Treatment] = []
    for name in order(definition.steps):
        step = by_name[name]
        module = task_module(step["task"])
        parameters = {**module.defaults, **step["parameters"]}
        waits = bool(step.get("inputs"))
        treatment = Treatment(
            task_type=module.name,
            owner_id=owner.id,
            document_set_id=document_set.id,
            document_set_title=document_set.title,
            parameters=parameters,
            documents=[] if waits else module.documents(document_set, parameters),
            status=Status.WAITING if waits else Status.PENDING,
            workflow_id=workflow.id,
            workflow_step=name,
        )
        if not waits and not treatment.documents:
            db.session.rollback()
            raise UserError(_("The document set has no digitized pages to treat."))
        db.session.add(treatment)
        if not waits:
            first.append(treatment)
    db.session.commit()
    for treatment in first:
        publish_treatment(treatment)
        enqueue_launch(treatment.id)
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
    """After a step's move is committed: start what its success made ready, cancel what its
    failure leaves without inputs, and settle the workflow."""
    workflow = db.session.get(Workflow, step.workflow_id)
    if workflow is None:
        return
    if target is Status.SUCCESS:
        start_ready_steps(workflow)
    elif target.is_terminal:
        _cancel_dependents(workflow, step)
    settle_workflow(workflow)


def _inputs(workflow: Workflow) -> dict[str, dict[str, str]]:
    return {step["name"]: step.get("inputs") or {} for step in workflow.steps}


def start_ready_steps(workflow: Workflow) -> None:
    """Launch each waiting step whose inputs have all succeeded, with those inputs filled in.
    The move out of WAITING is the claim: of two callers, one launches it."""
    if workflow.state.is_terminal:
        return
    steps = {t.workflow_step: t for t in _steps(workflow)}
    inputs = _inputs(workflow)
    for name, step in steps.items():
        sources = {parameter: steps.get(source) for parameter, source in inputs[name].items()}
        if step.state is not Status.WAITING or not all(
            s is not None and s.state is Status.SUCCESS for s in sources.values()
        ):
            continue
        parameters = {
            **step.parameters,
            **{p: s.id for p, s in sources.items() if s is not None},
        }
        document_set = (
            db.session.get(DocumentSet, step.document_set_id) if step.document_set_id else None
        )
        try:
            if document_set is None:
                raise UserError(_("Its document set has been deleted."))
            documents = task_module(step.task_type).documents(document_set, parameters)
        except UserError as exc:
            transition(step, Status.ERROR, error=str(exc))
            continue
        values = {"parameters": parameters, "documents": documents}
        if transition(step, Status.PENDING, "Its inputs are ready.", values=values):
            enqueue_launch(step.id)


def _cancel_dependents(workflow: Workflow, ended: Treatment) -> None:
    """The waiting steps that take inputs, directly or not, from a step that did not succeed."""
    inputs = _inputs(workflow)
    lost = {ended.workflow_step}
    grew = True
    while grew:
        more = {n for n, given in inputs.items() if lost & set(given.values())} - lost
        lost |= more
        grew = bool(more)
    for step in _steps(workflow):
        if step.workflow_step in lost and step.state is Status.WAITING:
            transition(
                step,
                Status.CANCELLED,
                f"Not run: step “{ended.workflow_step}” ended {ended.state.recorded_label}.",
            )


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
        start_ready_steps(workflow)
        settle_workflow(workflow)
    return len(quiet)
