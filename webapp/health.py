"""Health check for load balancers and the launcher."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from rq.defaults import DEFAULT_WORKER_TTL
from rq.worker import Worker
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.columns import utcnow
from webapp.extensions import db, redis_client
from webapp.http import http_session
from webapp.security import public
from webapp.task_modules.registry import task_modules

bp = Blueprint("health", __name__)
API_HEALTH_KEY = "clock:api_health"
# RQ refreshes an idle worker's heartbeat well within its TTL (420 s by default).
WORKER_SILENCE_SECONDS = DEFAULT_WORKER_TTL + 60


@bp.get("/healthz")
@public()
def healthz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    # Without these the web process still serves pages: reported, but not a reason for a
    # load balancer to take it out.
    others = _background_checks() if checks["redis"] == "ok" else {}
    api_health = noted_api_health() if checks["redis"] == "ok" else None
    others["processing_api"] = (
        "not checked yet" if api_health is None else "ok" if api_health["ok"] else "does not answer"
    )
    degraded = any(value != "ok" for value in others.values())
    status = "error" if not healthy else "degraded" if degraded else "ok"
    return jsonify(status=status, checks=checks | others), 200 if healthy else 503


def _background_checks() -> dict[str, str]:
    now = utcnow()
    recent = timedelta(seconds=WORKER_SILENCE_SECONDS)
    workers = [
        w
        for w in Worker.all(connection=redis_client())
        if w.last_heartbeat and now - w.last_heartbeat.replace(tzinfo=UTC) < recent
    ]
    last_run = clock_last_run()
    interval = current_app.config["CLOCK_INTERVAL_SECONDS"]
    clock_ok = last_run is not None and (now - last_run).total_seconds() < 3 * interval + 30
    return {
        "workers": "ok" if workers else "none seen recently",
        "clock": "ok" if clock_ok else "not seen recently",
    }


def clock_last_run() -> datetime | None:
    value: Any = redis_client().get(f"{current_app.config['REDIS_PREFIX']}:clock:last_run")
    return datetime.fromisoformat(value.decode()) if value else None


def noted_api_health() -> dict[str, Any] | None:
    """The clock's last look at the processing API (no outbound call per request)."""
    value: Any = redis_client().get(f"{current_app.config['REDIS_PREFIX']}:{API_HEALTH_KEY}")
    return dict(json.loads(value)) if value else None


def processing_api_health() -> dict[str, Any]:
    """The API's own `/monitor` for the first task, or why it could not be read."""
    route = next(iter(task_modules().values())).route
    url = f"{current_app.config['API_URL']}/{route}/monitor"
    try:
        # A health check must answer fast: one try, a short wait.
        response = http_session(retries=0).get(url, timeout=(1, 3))
        body = response.json() if response.ok else None
    except (OSError, ValueError) as exc:
        return {"url": url, "ok": False, "error": f"does not answer ({type(exc).__name__})"}
    if body is None:
        return {"url": url, "ok": False, "error": f"answered HTTP {response.status_code}"}
    return {"url": url, "ok": True, "monitor": body}
