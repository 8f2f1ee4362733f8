"""The work related to a treatment, both ways: what it repeats or retries and what repeated
or retried it, the runs whose results it took as input and those that took its results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.i18n import N_
from webapp.task_modules.registry import task_modules
from webapp.treatments.models import Treatment


def related_work(treatment: Treatment, user: Any) -> list[tuple[str, Treatment]]:
    """(how it is related, the other treatment), of those the user may see."""
    found: list[tuple[str, Treatment]] = []
    earlier = {
        N_("Relaunch of"): treatment.relaunch_of_id,
        N_("Retry of"): treatment.retry_of_id,
        **{
            N_("Input from"): str(value)
            for key, value in treatment.parameters.items()
            if key in _input_keys() and value
        },
    }
    for how, other_id in earlier.items():
        other = db.session.get(Treatment, other_id) if other_id else None
        if other is not None:
            found.append((how, other))
    later = select(Treatment).where(
        or_(
            Treatment.relaunch_of_id == treatment.id,
            Treatment.retry_of_id == treatment.id,
            *(Treatment.parameters[key].as_string() == treatment.id for key in _input_keys()),
        )
    )
    for other in db.session.scalars(later.order_by(Treatment.requested_at)):
        if other.relaunch_of_id == treatment.id:
            found.append((N_("Relaunched as"), other))
        elif other.retry_of_id == treatment.id:
            found.append((N_("Retried as"), other))
        else:
            found.append((N_("Its results used by"), other))
    return [(how, other) for how, other in found if other.visible_to(user)]


def _input_keys() -> set[str]:
    return {key for module in task_modules().values() for key in module.inputs}
