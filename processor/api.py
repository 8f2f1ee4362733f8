"""The HTTP side of DESIGN 6: start, status, cancel, models, monitor and result files."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, send_from_directory
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.worker import Worker
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from processor.models import CANCELLED, FINISHED, PENDING, Job, OutboxMessage, db
from processor.outbox import notify
from processor.parameters import METHODS, ParameterError, check_parameters
from processor.sources import DOCUMENT_TYPES, SourceError, check_url
from processor.work import enqueue, queue, result_directory

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> ResponseReturnValue:
    return jsonify(error=str(exc)), exc.status


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return jsonify(error=exc.description), exc.code or 500


@bp.app_errorhandler(Exception)
def _internal_error(exc: Exception) -> ResponseReturnValue:
    log.exception("request failed")
    return jsonify(error=f"Internal error ({type(exc).__name__})."), 500


def _task(task: str) -> str:
    if task not in METHODS:
        raise BadRequest(f"Unknown task {task!r}; this API runs {', '.join(METHODS)}.", 404)
    return task


def _job(task: str, tracking_id: str) -> Job:
    job = db.session.get(Job, tracking_id)
    if job is None or job.task != _task(task):
        raise BadRequest(f"No {task} job {tracking_id!r}.", 404)
    return job


def _documents(payload: dict[str, Any]) -> list[dict[str, str]]:
    documents = payload.get("documents")
    if not isinstance(documents, list) or not documents:
        raise BadRequest("documents must be a non-empty list.")
    if len(documents) > current_app.config["MAX_DOCUMENTS"]:
        raise BadRequest(f"At most {current_app.config['MAX_DOCUMENTS']} documents per job.")
    checked = []
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict):
            raise BadRequest(f"Document {number} is not an object.")
        kind, src, uid = document.get("type"), document.get("src"), document.get("uid")
        if kind not in DOCUMENT_TYPES:
            raise BadRequest(
                f"Document {number} has the type {kind!r}; use one of {', '.join(DOCUMENT_TYPES)}."
            )
        if not isinstance(uid, str) or not uid.strip():
            raise BadRequest(f"Document {number} has no uid.")
        try:
            src = check_url(src)
        except SourceError as exc:
            raise BadRequest(f"Document {number}: {exc}") from exc
        checked.append({"type": kind, "src": src, "uid": uid.strip()})
    if len({d["uid"] for d in checked}) != len(checked):
        raise BadRequest("Two documents have the same uid.")
    return checked


def _payload() -> dict[str, Any]:
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        payload = None  # nested too deeply to be a start request
    if not isinstance(payload, dict):
        raise BadRequest("The body must be a JSON object.")
    return payload


@bp.post("/<task>/start")
def start(task: str) -> ResponseReturnValue:
    task = _task(task)
    payload = _payload()
    experiment_id = payload.get("experiment_id")
    if not isinstance(experiment_id, str) or not experiment_id.strip():
        raise BadRequest("experiment_id is missing.")
    try:
        notify_url = check_url(payload.get("notify_url"))
    except SourceError as exc:
        raise BadRequest(f"notify_url: {exc}") from exc
    documents = _documents(payload)
    try:
        parameters = check_parameters(task, payload)
    except ParameterError as exc:
        raise BadRequest(str(exc)) from exc
    # A client that retries a start it thinks was lost gets the same job back.
    job = db.session.scalar(select(Job).where(Job.task == task, Job.experiment_id == experiment_id))
    if job is None:
        job = Job(
            task=task,
            experiment_id=experiment_id,
            notify_url=notify_url,
            documents=documents,
            parameters=parameters,
        )
        db.session.add(job)
        db.session.commit()
        try:
            enqueue(job)
            db.session.commit()
        except RedisError:
            # The job is kept; the clock's sweep queues it once Redis answers.
            log.warning("job %s recorded, not yet queued: Redis is unreachable", job.tracking_id)
    return jsonify(tracking_id=job.tracking_id, experiment_id=job.experiment_id)


@bp.get("/<task>/<tracking_id>/status")
def status(task: str, tracking_id: str) -> ResponseReturnValue:
    job = _job(task, tracking_id)
    results = job.results
    progress = [{"current": len(results), "total": len(job.documents), "context": "documents"}]
    if job.images_total:
        current = job.documents[len(results)]["uid"] if len(results) < len(job.documents) else ""
        progress.append({"current": job.images_done, "total": job.images_total, "context": current})
    log_entry = {
        "status": job.status,
        "progress": progress,
        "infos": [f"{r.uid}: done" for r in results if not r.failure],
        "errors": [f"{r.uid}: {r.failure}" for r in results if r.failure]
        + [error for r in results for error in r.errors]
        + ([job.error] if job.error else []),
    }
    return jsonify(tracking_id=job.tracking_id, status=job.status, log=log_entry)


@bp.post("/<task>/<tracking_id>/cancel")
def cancel(task: str, tracking_id: str) -> ResponseReturnValue:
    job = _job(task, tracking_id)
    if job.status in FINISHED - {CANCELLED}:
        raise BadRequest(f"The job has already ended ({job.status}).", 409)
    if job.status != CANCELLED:
        job.cancel_requested = True
        if job.status == PENDING:
            # Not begun: nothing to stop between documents, so it ends here.
            job.status, job.finished_at = CANCELLED, time.time()
            notify(job, "ERROR", error="[Cancelled] The treatment was cancelled.", completed=True)
        db.session.commit()
    return jsonify(tracking_id=job.tracking_id, status=job.status, cancel_requested=True)


@bp.get("/<task>/models")
def models(task: str) -> ResponseReturnValue:
    return jsonify({key: choice.describe(key) for key, choice in METHODS[_task(task)].items()})


@bp.get("/<task>/monitor")
def monitor(task: str) -> ResponseReturnValue:
    _task(task)
    counts = dict(
        db.session.execute(
            select(Job.status, func.count()).where(Job.task == task).group_by(Job.status)
        ).all()
    )
    outbox = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.given_up_at.is_(None)
        )
    )
    answer: dict[str, Any] = {"jobs": counts, "outbox_pending": outbox}
    try:
        rq_queue = queue()
        registries = {
            "started": StartedJobRegistry,
            "finished": FinishedJobRegistry,
            "failed": FailedJobRegistry,
            "deferred": DeferredJobRegistry,
            "scheduled": ScheduledJobRegistry,
        }
        answer["queue"] = {"name": rq_queue.name, "queued": rq_queue.count} | {
            name: registry(queue=rq_queue).count for name, registry in registries.items()
        }
        answer["workers"] = Worker.count(queue=rq_queue)
    except RedisError as exc:
        answer["queue"] = {"error": f"Redis cannot be reached: {exc}"}
        return jsonify(answer), 503
    return jsonify(answer)


@bp.get("/results/<tracking_id>/<path:filename>")
def result_file(tracking_id: str, filename: str) -> ResponseReturnValue:
    if not tracking_id.isalnum():
        abort(404)
    return send_from_directory(result_directory(tracking_id), filename)


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    db.session.execute(select(1))
    return jsonify(status="ok")
