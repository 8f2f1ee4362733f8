"""One Redis subscription per web process, fanned out to the streams the process holds open.

A Redis connection per browser would not scale (redis-py's pool stops at 100 connections per
process, and Redis counts every client): the hub's reader is the process's only subscriber,
and each stream waits on a queue of its own. Under gevent the reader is a greenlet and the
queues are gevent's, through monkey-patching; under threads they are what they say.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Message = dict[str, Any]
# Put in every stream's queue when the subscription was lost and made again: what was
# published meanwhile is gone, so the stream ends and its browser reconnects for the state.
RESYNC: Message = {"resync": True}
BACKLOG = 100


class Subscriber:
    def __init__(self, wants: Callable[[Message], bool]) -> None:
        self.wants = wants
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=BACKLOG)

    def offer(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            # A stream this far behind is stuck: drop what waits and make it start over.
            with self.queue.mutex:
                self.queue.queue.clear()
            self.queue.put_nowait(RESYNC)

    def next(self, timeout: float) -> Message | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    def __init__(self, redis_url: str, channel: str) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.subscribers: set[Subscriber] = set()
        self.lock = threading.Lock()
        self.reader: threading.Thread | None = None
        self.listening = threading.Event()

    def subscribe(self, wants: Callable[[Message], bool]) -> Subscriber:
        subscriber = Subscriber(wants)
        with self.lock:
            self.subscribers.add(subscriber)
            if self.reader is None or not self.reader.is_alive():
                self.reader = threading.Thread(target=self._read, name="live-hub", daemon=True)
                self.reader.start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self.lock:
            self.subscribers.discard(subscriber)

    def dispatch(self, message: Message) -> None:
        with self.lock:
            subscribers = list(self.subscribers)
        for subscriber in subscribers:
            if message is RESYNC or subscriber.wants(message):
                subscriber.offer(message)

    def _read(self) -> None:
        delay = 0.5
        first = True
        while True:
            try:
                pubsub = PubSub(
                    Redis.from_url(self.redis_url).connection_pool, ignore_subscribe_messages=True
                )
                pubsub.subscribe(self.channel)
                self.listening.set()
                if not first:
                    self.dispatch(RESYNC)
                first, delay = False, 0.5
                for raw in pubsub.listen():
                    if raw.get("type") == "message":
                        self._deliver(raw["data"])
            except RedisError as exc:
                self.listening.clear()
                log.warning("live updates: Redis subscription lost (%s); retrying", exc)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _deliver(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("live updates: a message that is not JSON was ignored")
            return
        if isinstance(message, dict):
            self.dispatch(message)
