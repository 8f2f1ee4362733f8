"""What publishes a change of work to the live stream: a treatment's fragments, any work's
message."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, has_request_context, render_template
from redis.client import Pipeline
from redis.exceptions import RedisError
from sqlalchemy import select

from webapp.extensions import db, redis_client
from webapp.lifecycle import Status
from webapp.live.streams import live_channel
from webapp.task_modules.registry import task_module, task_modules
from webapp.treatments.models import Treatment, TreatmentEvent

log = logging.getLogger(__name__)
T = TypeVar("T")
EVENTS_SHOWN = 100


def latest_events(treatment: Treatment) -> list[TreatmentEvent]:
    rows = db.session.scalars(
        select(TreatmentEvent)
        .where(TreatmentEvent.treatment_id == treatment.id)
        .order_by(TreatmentEvent.id.desc())
        .limit(EVENTS_SHOWN)
    )
    return list(reversed(list(rows)))


def page_context(treatment: Treatment, streamed: bool) -> dict[str, Any]:
    """What a treatment's page shows: the one context of its first load, polling and stream.

    `streamed` fragments go to every page watching, so they carry no user's token.
    """
    module = task_module(treatment.task_type)
    return {
        "treatment": treatment,
        "module": module,
        "summary": module.summary(treatment),
        "events": latest_events(treatment),
        "streamed": streamed,
    }


def fragments(treatment: Treatment) -> dict[str, str]:
    """The partials a page shows of a treatment, as streamed to every page that shows it."""
    context = page_context(treatment, streamed=True)
    return {
        "state": render_template("treatments/_state.html", **context),
        "events": render_template("treatments/_events.html", **context),
        "row": row_html(treatment),
    }


def row_html(treatment: Treatment) -> str:
    """A treatment's row in the list: what the list stream and list polling send."""
    return render_template("treatments/_row.html", t=treatment, modules=task_modules())


def publish_treatment(treatment: Treatment) -> None:
    """Send the treatment's new state to every page that shows it. Best effort: a page that
    misses it gets the state when it reconnects, or by polling."""
    send_update(treatment_update(treatment))


def treatment_update(treatment: Treatment) -> dict[str, Any]:
    """The message that tells the pages of the treatment's state, its fragments rendered."""
    return {
        "treatment_id": treatment.id,
        "owner_id": treatment.owner_id,
        "terminal": treatment.state.is_terminal,
        # A workflow step's part has a page of its own but no row in the lists.
        "listed": treatment.part_of_id is None,
        # Just made: the lists add its row (they update the rows they show).
        "new": treatment.state is Status.PENDING,
        # A workflow's step: the workflows list shows the workflow's progress.
        "workflow_id": treatment.workflow_id,
        "html": as_in_a_request(lambda: fragments(treatment)),
    }


def publish_removed(kind: str, ident: str, owner_id: int) -> None:
    """Tell the lists that show work of that kind ("treatment", "task") that it is gone."""
    send_update({"removed": kind, "id": ident, "owner_id": owner_id})


def publish_workflow(workflow_id: str, owner_id: int) -> None:
    """Tell the workflows list that a workflow moved (its steps' changes say so themselves)."""
    send_update({"workflow_id": workflow_id, "owner_id": owner_id})


def as_in_a_request(build: Callable[[], T]) -> T:
    """What `build` makes in a request, as pages see it: a worker has none, so one at APP_URL
    is made up for it (links are then absolute as the pages' are)."""
    if has_request_context():
        return build()
    with current_app.test_request_context(base_url=current_app.config["APP_URL"]):
        return build()


def json_default(value: Any) -> str:
    """Times as the API writes them (ISO 8601), anything else as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def send_update(message: dict[str, Any], pipeline: Pipeline | None = None) -> None:
    """Publish a change to the live channel, best effort; into `pipeline` if given, for its
    owner to send with what else it holds."""
    body = json.dumps(message, default=json_default)
    if pipeline is not None:
        pipeline.publish(live_channel(), body)
        return
    try:
        redis_client().publish(live_channel(), body)
    except RedisError as exc:
        work = message.get("treatment_id") or message.get("task_id")
        log.warning("%s: live update not published (%s)", work, exc)
