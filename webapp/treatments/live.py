"""The live side of the treatment pages: one treatment's stream and the list's, and the same
fragments for polling when streaming is not possible (DESIGN 7)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.live.hub import Message
from webapp.live.publish import fragments, page_context, row_html
from webapp.live.streams import event_stream, sse
from webapp.treatments import bp
from webapp.treatments.models import Treatment
from webapp.treatments.routes import listing, visible_or_404

# htmx stops polling on this status.
STOP_POLLING = 286
# On (re)connect the list stream first sends this many of the newest rows: more than a page of
# the list, so that whatever ended while the stream was down is shown ended.
ROWS_SENT = 50


def _treatment_events(html: dict[str, str], terminal: bool) -> Iterator[str]:
    yield sse("state", html["state"])
    yield sse("events", html["events"])
    if terminal:
        yield sse("end", "")


@bp.get("/<treatment_id>/stream")
def stream(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)

    def current() -> Iterator[str]:
        return _treatment_events(fragments(treatment), treatment.state.is_terminal)

    def render(message: Message) -> Iterator[str]:
        return _treatment_events(message["html"], bool(message.get("terminal")))

    return event_stream(lambda m: m.get("treatment_id") == treatment.id, current, render)


@bp.get("/<treatment_id>/live")
def live(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    html = render_template("treatments/_live.html", **page_context(treatment, streamed=False))
    return html, STOP_POLLING if treatment.state.is_terminal else 200


@bp.get("/stream")
def list_stream() -> ResponseReturnValue:
    user_id = current_user.id
    # `mine`: an administrator's home page follows their own treatments only.
    is_admin = current_user.is_admin and not request.args.get("mine")

    def wants(message: Message) -> bool:
        about_a_row = ("treatment_id" in message and bool(message.get("listed", True))) or (
            message.get("removed") == "treatment"
        )
        return about_a_row and bool(is_admin or message.get("owner_id") == user_id)

    def current() -> Iterator[str]:
        stmt = (
            select(Treatment)
            .where(Treatment.part_of_id.is_(None))
            .order_by(Treatment.requested_at.desc())
            .limit(ROWS_SENT)
        )
        if not is_admin:
            stmt = stmt.where(Treatment.owner_id == user_id)
        rows = [(t.id, row_html(t)) for t in db.session.scalars(stmt)]
        return (sse(f"row-{treatment_id}", row) for treatment_id, row in rows)

    def render(message: Message) -> Iterator[str]:
        if message.get("removed"):
            # The row gives way to an empty one, hidden: a row swaps its own place only.
            row_id = f"row-{message['id']}"
            yield sse(row_id, f'<tr id="{row_id}" class="removed" hidden></tr>')
            return
        if message.get("new"):
            yield sse("new-row", message["html"]["row"])
        yield sse(f"row-{message['treatment_id']}", message["html"]["row"])

    return event_stream(wants, current, render)


@bp.get("/rows")
def rows() -> ResponseReturnValue:
    """The list's rows when streams are blocked: polled for as long as the list is open, so
    that treatments made, ended or deleted since are shown so."""
    pagination, _, _ = listing(mine=bool(request.args.get("mine")))
    return "".join(row_html(t) for t in pagination.items)
