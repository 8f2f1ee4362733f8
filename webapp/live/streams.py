"""Server-Sent Event streams: the current state first, then what the hub brings, with
heartbeats, until the stream's time is up (the browser then reconnects and starts again)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator

from flask import Flask, Response, abort, current_app
from flask_login import current_user
from redis import Redis

from webapp.extensions import redis_client
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


class _Seat:
    """One of a user's LIVE_STREAMS_PER_USER open streams, counted in Redis across every web
    process; a seat whose process died frees itself when the stream's lifetime is over."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis, self.key, self.id = redis, key, uuid.uuid4().hex

    @classmethod
    def take(cls) -> _Seat:
        config = current_app.config
        key = f"{config['REDIS_PREFIX']}:streams:{current_user.id}"
        seat = cls(redis_client(), key)
        now = time.time()
        pipe = seat.redis.pipeline()
        pipe.zremrangebyscore(key, 0, now)
        pipe.zadd(key, {seat.id: now + config["LIVE_STREAM_SECONDS"] + 60})
        pipe.expire(key, int(config["LIVE_STREAM_SECONDS"]) + 120)
        pipe.zcard(key)
        count = pipe.execute()[-1]
        if count > config["LIVE_STREAMS_PER_USER"]:
            seat.leave()
            abort(429, "Too many live pages open at once; close some and reload.")
        return seat

    def leave(self) -> None:
        self.redis.zrem(self.key, self.id)


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
    seat = _Seat.take()
    live_hub = hub()
    subscriber = live_hub.subscribe(wants)

    def closed() -> None:
        live_hub.unsubscribe(subscriber)
        seat.leave()

    try:
        first = list(current())
    except BaseException:
        closed()
        raise
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
            closed()

    response = Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    # A stream that ends gives them back above; one the client left before its first line
    # never ran its generator, and is given back when the server closes it. Both are no-ops
    # the second time.
    response.call_on_close(closed)
    return response
