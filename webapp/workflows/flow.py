"""Workflow steps that flow document by document: a step that takes another's results runs as
parts, each a treatment of its own launched as soon as its documents' inputs are stored; the
step's state, progress and results are its parts' (DESIGN 3)."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.lifecycle import Status, lock, transition
from webapp.live.publish import publish_treatment
from webapp.task_modules.registry import task_module
from webapp.treatments.apply import conclusion
from webapp.treatments.fair_share import admit
from webapp.treatments.models import Treatment


def _sources(step: Treatment) -> list[Treatment]:
    """The treatments a step takes its inputs from."""
    module = task_module(step.task_type)
    ids = [str(step.parameters.get(parameter, "")) for parameter in module.inputs]
    found = [db.session.get(Treatment, ident) for ident in ids]
    return [source for source in found if source is not None]


def dependents(upstream: Treatment) -> list[Treatment]:
    """The steps of upstream's workflow that take their inputs from it."""
    steps = db.session.scalars(
        select(Treatment).where(
            Treatment.workflow_id == upstream.workflow_id, Treatment.container.is_(True)
        )
    )
    return [step for step in steps if upstream.id in step.parameters.values()]


def feed(step: Treatment) -> None:
    """Launch the step on the documents its input has stored since it last looked. The row
    is held meanwhile, so that two feeders never launch one document twice."""
    locked = lock(Treatment, step.id)
    if locked is None or locked.state.is_terminal:
        db.session.commit()
        return
    module = task_module(locked.task_type)
    new = _unfed(locked)
    busy = module.one_part_at_a_time and any(not p.state.is_terminal for p in locked.parts())
    if not new or busy:
        db.session.commit()
        return
    parts = [
        locked.another_run(documents, part_of_id=locked.id)
        for documents in module.parts(locked.documents, new)
    ]
    db.session.add_all(parts)
    locked.documents = [*locked.documents, *new]
    if not transition(locked, Status.IN_PROGRESS, "Running on each document whose input is ready."):
        db.session.commit()
        publish_treatment(locked)
    if parts:
        admit()


def _unfed(step: Treatment) -> list[dict[str, str]]:
    """The documents its inputs have stored that the step has not been launched on yet."""
    module = task_module(step.task_type)
    known = {document["uid"] for document in step.documents}
    return [
        document
        for source in _sources(step)
        for document in module.stored_input_documents(source)
        if document["uid"] not in known
    ]


def settle_step(step: Treatment) -> None:
    """The step's progress from its parts', and its end once its inputs have ended and so
    have its parts: as one run's, or CANCELLED if it never ran or every part was."""
    locked = lock(Treatment, step.id)
    if locked is None or locked.state.is_terminal:
        db.session.commit()
        return
    parts = locked.parts()
    locked.done_documents = list(dict.fromkeys(d for p in parts for d in p.done_documents))
    # A part that failed whole fails its documents.
    whole = [
        f"{', '.join(p.document_uids)}: {p.error}"
        for p in parts
        if p.state is Status.ERROR and p.error and not p.document_errors
    ]
    errors = [e for p in parts for e in p.document_errors] + whole
    locked.document_errors = list(dict.fromkeys(errors))
    sources = _sources(locked)
    if (
        not all(s.state.is_terminal for s in sources)
        or not all(p.state.is_terminal for p in parts)
        or _unfed(locked)
    ):
        locked.touch()
        db.session.commit()
        publish_treatment(locked)
        return
    if not parts:
        names = ", ".join(f"“{s.workflow_step}” ended {s.state.recorded_label}" for s in sources)
        transition(locked, Status.CANCELLED, f"Not run: step {names} with nothing to run on.")
    elif all(p.state is Status.CANCELLED for p in parts):
        transition(locked, Status.CANCELLED, "Every part was cancelled.")
    else:
        # As one run would end (DESIGN 3): SUCCESS with its errors listed when results were
        # stored, ERROR when every document failed.
        target, said = conclusion(locked)
        if target is Status.ERROR:
            transition(locked, target, error=said)
        else:
            transition(locked, target, said)


def part_moved(part: Treatment, target: Status) -> None:
    """After a part's move is committed: its step may have ended with it."""
    if not target.is_terminal:
        return
    step = db.session.get(Treatment, part.part_of_id)
    if step is not None:
        feed(step)  # what waited for this part goes now
        settle_step(step)


def flow_from(upstream: Treatment) -> None:
    """After upstream stored results or ended: what waits on it runs on what it has."""
    if not upstream.workflow_id or upstream.container:
        return
    for step in dependents(upstream):
        feed(step)
        if upstream.state.is_terminal:
            settle_step(step)
