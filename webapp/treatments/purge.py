"""Forget what is old: event histories, failed and cancelled treatments, ended background
tasks with their artifacts, ended flows' journals, derived files, the timeline's entries but
those administrators must keep.

Results of successful treatments are research data: they stay until someone deletes them.
A task's outputs and artifacts are made from such data, and can be made again.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, or_, select

from webapp.columns import utcnow
from webapp.extensions import db
from webapp.flows.models import FlowRecord, Phase
from webapp.lifecycle import TERMINAL, Status
from webapp.tasks.models import Task
from webapp.tasks.service import forget_tasks
from webapp.timeline.record import purge_timeline
from webapp.treatments.models import Treatment, TreatmentEvent

log = logging.getLogger(__name__)
_AGE = re.compile(r"(\d+)\s*([dhms])")
UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
# Files the app made from others and can make again: derived IIIF images.
DERIVED = ("cache",)


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or `45s`."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not an age such as 30d, 12h, 90m or 45s.")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


@dataclass
class PurgeReport:
    events: int = 0
    treatments: int = 0
    tasks: int = 0
    files: int = 0
    changes: int = 0
    flows: int = 0

    def __str__(self) -> str:
        return (
            f"{self.events} event(s), {self.treatments} failed or cancelled treatment(s), "
            f"{self.tasks} ended task(s), {self.files} derived file(s), "
            f"{self.changes} timeline entr(ies), {self.flows} ended flow(s)"
        )


def _old_files(cutoff: float) -> list[Path]:
    storage = Path(current_app.config["STORAGE_DIR"])
    return [
        path
        for folder in DERIVED
        for path in (storage / folder).rglob("*")
        if path.is_file() and path.stat().st_mtime < cutoff
    ]


def purge(older_than: timedelta, dry_run: bool = False) -> PurgeReport:
    """Delete (or, dry, count) what is older than the age."""
    cutoff = utcnow() - older_than
    old_events = TreatmentEvent.received_at < cutoff
    applied = TreatmentEvent.processed_at.is_not(None)
    old_failures = Treatment.status.in_([Status.ERROR, Status.CANCELLED]) & or_(
        Treatment.finished_at < cutoff,
        Treatment.finished_at.is_(None) & (Treatment.updated_at < cutoff),
    )
    report = PurgeReport(
        events=db.session.scalar(
            select(func.count()).select_from(TreatmentEvent).where(old_events, applied)
        )
        or 0,
        treatments=db.session.scalar(
            select(func.count()).select_from(Treatment).where(old_failures)
        )
        or 0,
    )
    old_tasks = list(
        db.session.scalars(
            select(Task.id).where(
                Task.parent_id.is_(None),
                Task.status.in_([s.value for s in TERMINAL]),
                or_(
                    Task.finished_at < cutoff,
                    Task.finished_at.is_(None) & (Task.updated_at < cutoff),
                ),
            )
        )
    )
    report.tasks = len(old_tasks)
    files = _old_files(time.time() - older_than.total_seconds())
    report.files = len(files)
    report.changes = purge_timeline(older_than, dry_run=True)
    old_flows = FlowRecord.phase.in_([Phase.DONE, Phase.UNDONE]) & (FlowRecord.finished_at < cutoff)
    report.flows = (
        db.session.scalar(select(func.count()).select_from(FlowRecord).where(old_flows)) or 0
    )
    if dry_run:
        return report
    purge_timeline(older_than)
    db.session.execute(delete(FlowRecord).where(old_flows))
    forget_tasks(old_tasks)
    db.session.execute(delete(TreatmentEvent).where(old_events, applied))
    # Their events, results and region sets go with them (ON DELETE CASCADE).
    db.session.execute(delete(Treatment).where(old_failures))
    db.session.commit()
    for path in files:
        path.unlink(missing_ok=True)
    log.info("purge of what is older than %s: %s", older_than, report)
    return report
