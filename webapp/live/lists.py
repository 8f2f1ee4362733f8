"""Live lists that fetch their rows again when work they may show changes: the stream says
only "changed", and the list asks for its rows. htmx keeps the last trigger that comes while
a request is in flight, so a list makes one request at a time and always shows the last
change; when streams are blocked, the same rows are polled."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response
from flask_login import current_user

from webapp.live.hub import Message
from webapp.live.streams import event_stream, sse


def changes_stream(about: Callable[[Message], bool], *, admins_see_all: bool) -> Response:
    """A stream that says "changed" for each message `about` picks of work the reader may
    see (their own; any, for an administrator of a list that shows all), and once on
    (re)connect, for whatever changed while it was away."""
    # Read now: the hub picks messages outside this request.
    user_id, sees_all = current_user.id, admins_see_all and current_user.is_admin

    def wants(message: Message) -> bool:
        return about(message) and (sees_all or message.get("owner_id") == user_id)

    def changed(_message: Message | None = None) -> Iterator[str]:
        yield sse("changed", "")

    return event_stream(wants, changed, changed)
