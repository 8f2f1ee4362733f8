"""Jobs the clock must be able to find again: the latest job id of each piece of work.

Each job gets an id of its own (a job of a dead worker may stay registered as running for
minutes); the id of the latest is kept in Redis under the work's name, so that the clock can
tell a piece of work whose job Redis lost from one whose job waits or runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from webapp.extensions import get_queue, redis_client, redis_transaction

log = logging.getLogger(__name__)


def _key(name: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:job:{name}"


def enqueue_tracked(
    name: str,
    func: Callable[..., Any],
    *args: Any,
    delay: float = 0,
    pipeline: Pipeline | None = None,
    **options: Any,
) -> None:
    """Queue `func(*args)` now or after `delay` seconds, in one round trip to Redis together
    with what `pipeline` (a `redis_transaction`) already holds; if Redis is down, the clock will."""
    job_id = f"{name.replace(':', '-')}-{uuid.uuid4().hex[:12]}"
    pipe = pipeline if pipeline is not None else redis_transaction()
    queue = get_queue()
    try:
        pipe.set(_key(name), job_id, ex=7 * 24 * 3600)
        if delay > 0:
            queue.enqueue_in(
                timedelta(seconds=delay), func, *args, job_id=job_id, pipeline=pipe, **options
            )
        else:
            queue.enqueue(func, *args, job_id=job_id, pipeline=pipe, **options)
        pipe.execute()
    except RedisError:
        log.exception("could not queue %s; the clock will", name)


# A running job's heartbeat is renewed every 30 s (RQ's job monitoring interval).
HEARTBEAT_SILENCE = timedelta(seconds=90)


def job_alive(job_id: str) -> bool:
    """Whether a job waits or runs: a running job whose heartbeat stopped died with its worker."""
    try:
        job = Job.fetch(job_id, connection=redis_client())
    except NoSuchJobError:
        return False
    if job.get_status() == JobStatus.STARTED:
        beat = job.last_heartbeat
        return beat is not None and datetime.now(UTC) - beat.replace(tzinfo=UTC) < HEARTBEAT_SILENCE
    return _waiting(job)


def tracked_job_waiting(name: str) -> bool:
    """Whether the work's latest job still waits to run: in its queue, or for its delay.

    Work that claims a lease when it starts needs no more: a job that RQ says is running but
    that never took its lease died with its worker (RQ notices only minutes later), and one
    a worker took from the queue and died with before starting it is in the queue no more.
    """
    job = _latest_job(name)
    return job is not None and _waiting(job)


def _latest_job(name: str) -> Job | None:
    value = redis_client().get(_key(name))
    if not isinstance(value, bytes):
        return None
    try:
        return Job.fetch(value.decode(), connection=redis_client())
    except NoSuchJobError:
        return None


def _waiting(job: Job) -> bool:
    status = job.get_status()
    if status == JobStatus.QUEUED:
        return get_queue(job.origin).get_job_position(job.id) is not None
    return status in {JobStatus.SCHEDULED, JobStatus.DEFERRED}


def withdraw_tracked(name: str) -> bool:
    """Take the work's latest job out of its queue if it still waits; whether it did."""
    job = _latest_job(name)
    if job is None or not _waiting(job):
        return False
    job.cancel()
    redis_client().delete(_key(name))
    return True
