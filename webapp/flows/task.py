"""An async flow runs as a background task: its user follows it as any other work (DESIGN 3:
its state, history, live stream, cancel), and a worker that dies is taken over by the
task's clock, which undoes or finishes what the flow had done."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import gettext as _

from webapp.extensions import db
from webapp.flows.engine import DIED, FlowError, execute, recover
from webapp.flows.models import FlowRecord, Phase
from webapp.flows.registry import installed_flows
from webapp.i18n import N_
from webapp.leases import take_lease
from webapp.tasks.base import BackgroundTask, InputError, TaskCancelled, TaskFailed
from webapp.tasks.inputs import DictParameter, Parameter, StringParameter
from webapp.tasks.run import TaskRun


class RunFlow(BackgroundTask):
    name = "flow"
    label = N_("A change to the catalogue")
    description = N_("A flow submitted in async mode: its steps, done whole or not at all.")
    offered = False
    inputs: ClassVar[dict[str, Parameter]] = {
        "flow": StringParameter(label=N_("Flow"), max_length=36),
    }
    outputs: ClassVar[dict[str, Parameter]] = {
        "result": DictParameter(label=N_("What the flow made")),
    }

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        # Only the flow's own submission starts its task, once.
        record = db.session.get(FlowRecord, inputs["flow"])
        if record is None or record.user_id != user.id or record.task_id is not None:
            raise InputError({"flow": [_("Flows are submitted, not started as tasks.")]})

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any] | None:
        record = db.session.get(FlowRecord, inputs["flow"])
        if record is None or record.task_id != run.task.id:
            raise TaskFailed(_("This flow is gone."))
        flow_class = installed_flows().get(record.name)
        if flow_class is None:
            raise TaskFailed(_("No flow named “%(name)s” is installed here.", name=record.name))
        fresh = FlowRecord.claimed_at.is_(None), FlowRecord.phase == Phase.RUNNING.value
        if not take_lease(FlowRecord, record.id, 0, *fresh):
            return _recovered(record.id)  # taken over from a worker that died
        db.session.refresh(record)

        def progress(done: int, total: int, text: str) -> None:
            try:
                run.set_target(total)
                run.set_progress(done)
                run.set_sub_state(text)
            except TaskCancelled:
                raise FlowError(
                    _("The change was cancelled; what it had done was undone.")
                ) from None

        try:
            return {"result": execute(record, flow_class(), progress)}
        except FlowError as exc:
            raise TaskFailed(str(exc)) from exc


def _recovered(record_id: str) -> dict[str, Any]:
    phase = recover(record_id)
    record = db.session.get(FlowRecord, record_id)
    if phase is Phase.DONE and record is not None:
        return {"result": record.result or {}}
    raise TaskFailed(record.error if record is not None and record.error else DIED)


def start_flow_task(record: FlowRecord, user: Any) -> str:
    """The task that runs an async flow, queued once the flow knows it."""
    from webapp.tasks.runner import enqueue_task
    from webapp.tasks.service import start_task

    task = start_task(user, RunFlow.name, {"flow": record.id}, queue=False).task
    task_id = task.stored_id
    record.task_id = task_id
    db.session.commit()
    enqueue_task(task_id, RunFlow.name)
    return task_id
