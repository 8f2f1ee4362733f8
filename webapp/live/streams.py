"""Server-Sent Event streams: the current state first, then what the hub brings, with
heartbeats, until the stream's time is up (the browser then reconnects and starts again)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from flask import Flask, Response, current_app

from webapp.live.hub import RESYNC, Hub, Message


def hub() -> Hub:
    """This process's hub, made on first use."""
    app: Flask = current_app
    if "live_hub" not in app.extensions:
        app.extensions["live_hub"] = Hub(app.config["REDIS_URL"], live_channel())
    live_hub: Hub = app.extensions["live_hub"]
    return live_hub


def live_channel() -> str:
    return f"{current_app.config['REDIS_PREFIX']}:live"


def sse(event: str, data: str) -> str:
    """One event; every line of the data gets its own `data:` field, as the format asks."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def event_stream(
    wants: Callable[[Message], bool],
    current: Callable[[], Iterable[str]],
    render: Callable[[Message], Iterable[str]],
) -> Response:
    """A stream of the events `wants` picks, each turned into SSE text by `render`.

    The subscription is taken before `current()` renders the state, so that nothing published
    in between is missed. Nothing here touches the database once streaming: `current` runs
    in the view and the published messages carry their HTML.
    """
    config = current_app.config
    subscriber = hub().subscribe(wants)
    try:
        first = list(current())
    except BaseException:
        hub().unsubscribe(subscriber)
        raise
    live_hub = hub()
    heartbeat, lifetime = config["LIVE_HEARTBEAT_SECONDS"], config["LIVE_STREAM_SECONDS"]

    def generate() -> Iterator[str]:
        try:
            yield "retry: 2000\n\n" + "".join(first)
            ends = time.monotonic() + lifetime
            while (left := ends - time.monotonic()) > 0:
                message = subscriber.next(min(heartbeat, left))
                if message is None:
                    yield ": heartbeat\n\n"
                elif message is RESYNC:
                    return
                else:
                    # One write per update, whatever number of events it makes.
                    yield "".join(render(message))
        finally:
            live_hub.unsubscribe(subscriber)

    return Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
