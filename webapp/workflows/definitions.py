"""Workflow definitions: the built-in one every user has, a user's own, and the checks a
definition passes on save (tasks that exist, inputs from earlier steps, no cycle, parameters
the task's own form accepts)."""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.security import DatabaseInteger
from webapp.sharing import share
from webapp.task_modules.registry import task_modules
from webapp.timeline.record import record, record_now
from webapp.treatments.forms import ParameterErrors, checked_parameters
from webapp.workflows.models import WorkflowDefinition, definition_shares

MAX_STEPS = 20
FULL_ANALYSIS = "full-analysis"
BUILT_IN: dict[str, tuple[str, list[dict[str, Any]]]] = {
    FULL_ANALYSIS: (
        N_("Full analysis"),
        [
            {"name": "regions", "task": "regions", "parameters": {}},
            {
                "name": "vectorization",
                "task": "vectorization",
                "parameters": {},
                "inputs": {"regions_treatment": "regions"},
            },
            {
                "name": "similarity",
                "task": "similarity",
                "parameters": {},
                "inputs": {"regions_treatment": "regions"},
            },
        ],
    )
}


class DefinitionErrors(UserError):
    """A definition refused, with a message per field (`steps.2.task`, `name`)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(" ".join(v) for _k, v in sorted(fields.items())))
        self.fields = fields


@dataclass(frozen=True)
class Definition:
    """What a run is made from: a stored definition, or a built-in one (`key` is its name)."""

    key: str
    name: str
    steps: list[dict[str, Any]]
    stored: WorkflowDefinition | None = None


def order(steps: list[dict[str, Any]]) -> list[str]:
    """The step names, each after the steps it takes inputs from."""
    graph = {s["name"]: set(s.get("inputs", {}).values()) for s in steps}
    return list(TopologicalSorter(graph).static_order())


def _step_problems(
    index: int, step: Any, names: dict[str, str], user: Any
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """One step, checked: its clean form, or the messages of what is wrong with it."""
    where = f"steps.{index}"
    if not isinstance(step, dict):
        return None, {where: [_("A step is an object with a name and a task.")]}
    name, task = step.get("name"), step.get("task")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 80:
        return None, {f"{where}.name": [_("A step needs a name of 1 to 80 characters.")]}
    module = task_modules().get(task) if isinstance(task, str) else None
    if module is None:
        known = ", ".join(sorted(task_modules()))
        return None, {
            f"{where}.task": [
                _(
                    "Step “%(step)s”: no task is named “%(task)s”; the tasks are %(known)s.",
                    step=name,
                    task=task,
                    known=known,
                )
            ]
        }
    problems: dict[str, list[str]] = {}
    inputs = step.get("inputs") or {}
    parameters = step.get("parameters") or {}
    if not isinstance(inputs, dict) or not isinstance(parameters, dict):
        return None, {where: [_("Step “%(step)s”: inputs and parameters are objects.", step=name)]}
    for parameter, wanted in module.inputs.items():
        source = inputs.get(parameter)
        if source is None:
            problems[f"{where}.inputs.{parameter}"] = [
                _(
                    "Step “%(step)s” needs the step whose %(task)s it runs on.",
                    step=name,
                    task=wanted,
                )
            ]
        elif names.get(source) != wanted:
            problems[f"{where}.inputs.{parameter}"] = [
                _(
                    "Step “%(step)s” runs on “%(source)s”, which is not a %(task)s step.",
                    step=name,
                    source=source,
                    task=wanted,
                )
            ]
    for parameter in set(inputs) - set(module.inputs):
        problems[f"{where}.inputs.{parameter}"] = [
            _("Step “%(step)s” takes no input “%(input)s”.", step=name, input=parameter)
        ]
    try:
        checked = checked_parameters(module, user, None, parameters)
    except ParameterErrors as exc:
        for field, messages in exc.fields.items():
            problems[f"{where}.parameters.{field}"] = messages
        checked = {}
    clean = {"name": name.strip(), "task": module.name, "parameters": checked}
    if module.inputs:
        clean["inputs"] = {k: v for k, v in inputs.items() if k in module.inputs}
    return clean, problems


def checked_steps(steps: Any, user: Any) -> list[dict[str, Any]]:
    """The steps, checked as a whole: DefinitionErrors with every problem otherwise."""
    if not isinstance(steps, list) or not steps:
        raise DefinitionErrors({"steps": [_("A workflow has at least one step.")]})
    if len(steps) > MAX_STEPS:
        raise DefinitionErrors({"steps": [_("A workflow has at most %(n)s steps.", n=MAX_STEPS)]})
    names = {
        str(s.get("name", "")).strip(): str(s.get("task", "")) for s in steps if isinstance(s, dict)
    }
    problems: dict[str, list[str]] = {}
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, step in enumerate(steps):
        checked, found = _step_problems(index, step, names, user)
        problems |= found
        if checked is not None:
            if checked["name"] in seen:
                problems[f"steps.{index}.name"] = [
                    _("Two steps are named “%(step)s”.", step=checked["name"])
                ]
            seen.add(checked["name"])
            clean.append(checked)
    if not problems:
        try:
            order(clean)
        except CycleError as exc:
            cycle = " → ".join(exc.args[1])
            problems["steps"] = [_("The steps form a cycle: %(cycle)s.", cycle=cycle)]
    if problems:
        raise DefinitionErrors(problems)
    return clean


def definitions_for(user: Any) -> list[Definition]:
    """The definitions a user may run: the built-in ones, then theirs and those shared with
    them or public, by name."""
    built_in = [Definition(key, _(name), steps) for key, (name, steps) in BUILT_IN.items()]
    stmt = select(WorkflowDefinition).order_by(WorkflowDefinition.name, WorkflowDefinition.id)
    if not user.is_admin:
        shared = select(definition_shares.c.definition_id).where(
            definition_shares.c.user_id == user.id
        )
        stmt = stmt.where(
            or_(
                WorkflowDefinition.owner_id == user.id,
                WorkflowDefinition.visibility == "public",
                (WorkflowDefinition.visibility == "shared") & WorkflowDefinition.id.in_(shared),
            )
        )
    stored = [Definition(str(d.id), d.name, d.steps, d) for d in db.session.scalars(stmt)]
    return built_in + stored


def definition_for(user: Any, key: str) -> Definition | None:
    """The definition of that key if the user may run it."""
    if key in BUILT_IN:
        name, steps = BUILT_IN[key]
        return Definition(key, _(name), steps)
    # ASCII digits within the database's integers: any other key names no saved definition.
    if not (key.isascii() and key.isdigit() and len(key) <= 10):
        return None
    if int(key) > DatabaseInteger.LARGEST:
        return None
    stored = db.session.get(WorkflowDefinition, int(key))
    if stored is None or not stored.visible_to(user):
        return None
    return Definition(str(stored.id), stored.name, stored.steps, stored)


def delete_definition(user: Any, key: str) -> None:
    """A saved definition its owner (or an admin) no longer wants; the runs made from it keep
    their own copy. A built-in one, or one the user may not change, is refused."""
    definition = definition_for(user, key)
    if definition is None or definition.stored is None:
        raise UserError(_("No such workflow definition, or not one you may delete."))
    if not definition.stored.editable_by(user):
        raise UserError(_("Only its owner deletes a workflow definition."))
    record("workflow.delete", definition.stored, actor=user)
    db.session.delete(definition.stored)
    db.session.commit()


def save_definition(
    user: Any,
    name: Any,
    steps: Any,
    visibility: str = "private",
    shared_with: list[str] | None = None,
) -> WorkflowDefinition:
    """A new definition of the user's, once its steps pass every check; private, public, or
    shared with the accounts of these emails, as a document set is."""
    problems: dict[str, list[str]] = {}
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 120:
        problems["name"] = [_("A name of 1 to 120 characters.")]
    try:
        clean = checked_steps(steps, user)
    except DefinitionErrors as exc:
        problems |= exc.fields
    if problems:
        raise DefinitionErrors(problems)
    definition = WorkflowDefinition(name=str(name).strip(), owner_id=user.id, steps=clean)
    db.session.add(definition)
    try:
        share(definition, visibility, shared_with or [])
    except UserError as exc:
        db.session.rollback()
        raise DefinitionErrors({"shared_with": [str(exc)]}) from exc
    record_now("workflow.save", definition, actor=user, details={"visibility": visibility})
    return definition
