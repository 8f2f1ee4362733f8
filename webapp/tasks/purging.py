"""The purge as a task: what `flask treatments purge` does, started and followed like any
work, for administrators (it deletes everyone's old work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from webapp.i18n import N_
from webapp.tasks.base import BackgroundTask, InputError, TaskFailed
from webapp.tasks.inputs import BoolParameter, IntParameter, Parameter, StringParameter
from webapp.tasks.run import TaskRun
from webapp.treatments.purge import parse_age, purge


class Purge(BackgroundTask):
    name = "purge"
    label = N_("Purge old work")
    description = N_(
        "Delete old event histories, failed and cancelled treatments, ended tasks with their "
        "artifacts, and old derived images."
    )
    admin_only = True
    inputs: ClassVar[dict[str, Parameter]] = {
        "older_than": StringParameter(
            label=N_("Older than"), help="e.g. 30d, 12h, 90m", default="30d"
        ),
        "dry_run": BoolParameter(label=N_("Only count"), default=False),
    }
    outputs: ClassVar[dict[str, Parameter]] = {
        name: IntParameter(label=label)
        for name, label in {
            "events": N_("Events"),
            "treatments": N_("Treatments"),
            "tasks": N_("Tasks"),
            "files": N_("Derived files"),
            "changes": N_("Timeline entries"),
            "flows": N_("Ended flows"),
        }.items()
    }

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        try:
            parse_age(inputs["older_than"])
        except ValueError as exc:
            raise InputError({"older_than": [str(exc)]}) from exc

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        try:
            age = parse_age(inputs["older_than"])
        except ValueError as exc:
            raise TaskFailed(str(exc)) from exc
        run.set_sub_state("Counting" if inputs["dry_run"] else "Deleting")
        report = purge(age, dry_run=inputs["dry_run"])
        run.say(f"{'Would delete' if inputs['dry_run'] else 'Deleted'} {report}.")
        return asdict(report)
