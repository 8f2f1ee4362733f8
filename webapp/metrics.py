"""`/metrics` in Prometheus's text format, for a scraper holding METRICS_TOKEN.

Every figure is read when scraped, from the database and Redis, which every process writes:
the web workers, the job workers and the clock are counted alike, with no per-process state
to gather. Latencies are histograms of the work of the last hour: a notification's wait from
its arrival to its application, a launch's from the request to the API's acceptance.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from rq.worker import Worker
from sqlalchemy import func, select

from webapp.columns import utcnow
from webapp.extensions import db, get_queue, redis_client
from webapp.security import public
from webapp.tasks.models import Task
from webapp.treatments.models import Treatment, TreatmentEvent

bp = Blueprint("metrics", __name__)
WINDOW = timedelta(hours=1)
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _histogram(name: str, documentation: str, seconds: Iterable[float]) -> Metric:
    values = sorted(max(0.0, s) for s in seconds)
    counts, index = [], 0
    for bound in BUCKETS:
        while index < len(values) and values[index] <= bound:
            index += 1
        counts.append((str(bound), float(index)))
    counts.append(("+Inf", float(len(values))))
    family = HistogramMetricFamily(name, documentation)
    family.add_metric([], counts, sum_value=sum(values))
    return family


class Scraped(Collector):
    def collect(self) -> Iterator[Metric]:
        treatments = GaugeMetricFamily(
            "scriptorium_treatments", "Treatments by state and task", labels=["state", "task"]
        )
        rows = db.session.execute(
            select(Treatment.status, Treatment.task_type, func.count()).group_by(
                Treatment.status, Treatment.task_type
            )
        )
        for status, task, count in rows:
            treatments.add_metric([status, task], count)
        yield treatments
        tasks = GaugeMetricFamily(
            "scriptorium_tasks", "Background tasks by state and name", labels=["state", "name"]
        )
        for status, name, count in db.session.execute(
            select(Task.status, Task.name, func.count()).group_by(Task.status, Task.name)
        ):
            tasks.add_metric([status, name], count)
        yield tasks
        queue = get_queue()
        queued = GaugeMetricFamily("scriptorium_queue_jobs", "Jobs waiting", labels=["queue"])
        queued.add_metric([queue.name], queue.count)
        yield queued
        workers = GaugeMetricFamily("scriptorium_workers", "RQ workers alive")
        workers.add_metric([], len(Worker.all(connection=redis_client())))
        yield workers
        since = utcnow() - WINDOW
        applied = db.session.execute(
            select(TreatmentEvent.received_at, TreatmentEvent.processed_at).where(
                TreatmentEvent.processed_at >= since
            )
        )
        yield _histogram(
            "scriptorium_notify_latency_seconds",
            "From a notification's arrival to its application (the last hour)",
            ((done - came).total_seconds() for came, done in applied if done is not None),
        )
        launched = db.session.execute(
            select(Treatment.requested_at, Treatment.started_at).where(
                Treatment.started_at >= since
            )
        )
        yield _histogram(
            "scriptorium_launch_latency_seconds",
            "From a treatment's request to its acceptance by the processing API (the last hour)",
            ((began - asked).total_seconds() for asked, began in launched if began is not None),
        )


@bp.get("/metrics")
@public()
def metrics() -> Any:
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        abort(401)
    registry = CollectorRegistry()
    registry.register(Scraped())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
