"""Queues, workers, failed jobs, the clock and the processing API, as operators watch them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.worker import Worker

from webapp.admin import bp
from webapp.extensions import get_queue, redis_client
from webapp.health import clock_last_run, processing_api_health
from webapp.timeline.record import record_now

QUEUES = ("default",)
FAILED_SHOWN = 50
REGISTRIES = {
    "started": StartedJobRegistry,
    "deferred": DeferredJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "finished": FinishedJobRegistry,
    "failed": FailedJobRegistry,
}


def queue_overview() -> list[dict[str, Any]]:
    overview = []
    for name in QUEUES:
        queue = get_queue(name)
        sizes = {"queued": queue.count}
        sizes |= {key: registry(queue=queue).count for key, registry in REGISTRIES.items()}
        failed = FailedJobRegistry(queue=queue)
        jobs = []
        for job_id in failed.get_job_ids(0, FAILED_SHOWN - 1):
            try:
                job = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue
            result = job.latest_result()
            error = (result.exc_string or "").strip().splitlines() if result else []
            jobs.append(
                {
                    "id": job.id,
                    "name": job.func_name,
                    "ended_at": job.ended_at,
                    "error": error[-1] if error else "",
                }
            )
        overview.append({"name": name, "sizes": sizes, "failed": jobs})
    return overview


@bp.get("/queues")
def queues() -> ResponseReturnValue:
    try:
        overview = queue_overview()
        workers = Worker.all(connection=redis_client())
        clock = clock_last_run()
        redis_error = ""
    except RedisError as exc:
        overview, workers, clock, redis_error = [], [], None, str(exc)
    return render_template(
        "admin/queues.html",
        overview=overview,
        workers=workers,
        clock=clock,
        redis_error=redis_error,
        api=processing_api_health(),
    )


def _act(registry: FailedJobRegistry, job_id: str, action: str) -> None:
    if action == "requeue":
        registry.requeue(job_id)
    else:
        registry.remove(job_id, delete_job=True)


def _failed_jobs(queue: str, action: str) -> FailedJobRegistry | None:
    """The queue's failed jobs, if the queue and the action are known (else flashed)."""
    if queue not in QUEUES or action not in {"requeue", "delete"}:
        flash(_("Unknown queue or action."), "error")
        return None
    return FailedJobRegistry(queue=get_queue(queue))


@bp.post("/queues/<queue>/failed/<job_id>/<action>")
def failed_job(queue: str, job_id: str, action: str) -> ResponseReturnValue:
    registry = _failed_jobs(queue, action)
    if registry is None:
        return redirect(url_for("admin.queues"))
    details = {"queue": queue, "job": job_id, "action": action}
    try:
        _act(registry, job_id, action)
    except (NoSuchJobError, RedisError, ValueError) as exc:
        record_now("admin.job", outcome="failure", details=details | {"error": str(exc)})
        flash(_("Job %(job_id)s: %(exc)s", job_id=job_id, exc=exc), "error")
    else:
        record_now("admin.job", details=details)
        done = (
            _("Job %(job_id)s: requeued.", job_id=job_id)
            if action == "requeue"
            else _("Job %(job_id)s: deleted.", job_id=job_id)
        )
        flash(done, "success")
    return redirect(url_for("admin.queues"))


@bp.post("/queues/<queue>/failed-jobs/<action>")
def all_failed_jobs(queue: str, action: str) -> ResponseReturnValue:
    """Requeue, or delete, every failed job of the queue at once."""
    registry = _failed_jobs(queue, action)
    if registry is None:
        return redirect(url_for("admin.queues"))
    done = gone = 0
    try:
        for job_id in registry.get_job_ids():
            try:
                _act(registry, job_id, action)
                done += 1
            except (NoSuchJobError, ValueError):
                gone += 1  # gone meanwhile: another operator, or its time to live
    except RedisError as exc:
        flash(_("The failed jobs could not be read: %(exc)s", exc=exc), "error")
        return redirect(url_for("admin.queues"))
    details = {"queue": queue, "action": action, "jobs": done, "gone": gone}
    record_now("admin.job", details=details)
    said = (
        _("%(count)s failed jobs requeued.", count=done)
        if action == "requeue"
        else _("%(count)s failed jobs deleted.", count=done)
    )
    flash(said, "success")
    return redirect(url_for("admin.queues"))
