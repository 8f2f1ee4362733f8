"""The reference processor's HTTP contract (DESIGN 6): every endpoint and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from flask import Flask

from processor.models import Job, db
from tests import provision
from tests.processor_harness import Processor
from webapp import ROOT

TASKS = ("regions", "vectorization", "similarity")


def _document(src: str = "http://sources.test/m.json", uid: str = "wit1_dig1") -> dict[str, str]:
    return {"type": "iiif", "src": src, "uid": uid}


@pytest.mark.parametrize("task", TASKS)
def test_models_describe_each_method(processor: Processor, task: str) -> None:
    models = processor.client.get(f"/{task}/models").get_json()
    assert models
    for key, info in models.items():
        assert info["model"] == key
        assert info["name"]
        assert len(info["desc"]) > 40
    if task == "similarity":
        assert {info.get("type") for info in models.values()} == {"algorithm", "feat_net"}


def test_unknown_task_is_404_json(processor: Processor) -> None:
    for path in ("/ocr/models", "/ocr/monitor", "/ocr/abc/status"):
        response = processor.client.get(path)
        assert response.status_code == 404
        assert "ocr" in response.get_json()["error"]
    assert processor.start("ocr", [_document()]).status_code == 404


@pytest.mark.parametrize(
    ("task", "change", "message"),
    [
        ("regions", {"documents": []}, "documents"),
        ("regions", {"documents": None}, "documents"),
        ("regions", {"documents": ["x"]}, "not an object"),
        ("regions", {"documents": [{"type": "pdf", "src": "http://a.test/x", "uid": "a"}]}, "type"),
        (
            "regions",
            {"documents": [{"type": "iiif", "src": "file:///etc/passwd", "uid": "a"}]},
            "http",
        ),
        ("regions", {"documents": [{"type": "iiif", "src": "http://a.test/x"}]}, "uid"),
        ("regions", {"documents": [_document(), _document()]}, "same uid"),
        ("regions", {"experiment_id": ""}, "experiment_id"),
        ("regions", {"notify_url": "javascript:alert(1)"}, "notify_url"),
        ("regions", {"model": "yolo"}, "model"),
        ("vectorization", {"model": 3}, "model"),
        ("similarity", {"topk": 0}, "topk"),
        ("similarity", {"topk": "5"}, "topk"),
        ("similarity", {"threshold": 1.5}, "threshold"),
        ("similarity", {"parameters": {"algorithm": "euclid"}}, "algorithm"),
        ("similarity", {"parameters": "fast"}, "parameters"),
        ("similarity", {"skip_pairs": [["a"]]}, "skip_pairs"),
        ("similarity", {"prefilter": "yes"}, "prefilter"),
    ],
)
def test_bad_start_requests_are_400_and_keep_nothing(
    processor: Processor, task: str, change: dict[str, Any], message: str
) -> None:
    payload = {
        "experiment_id": "exp-1",
        "notify_url": processor.notify_url,
        "documents": [_document()],
        **change,
    }
    response = processor.client.post(f"/{task}/start", json=payload)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert db.session.query(Job).count() == 0


def test_a_body_that_is_not_json_is_400(processor: Processor) -> None:
    for data, kind in (
        (b"{nope", "application/json"),
        (b"[]", "application/json"),
        (b"a=b", "text/plain"),
    ):
        response = processor.client.post("/regions/start", data=data, content_type=kind)
        assert response.status_code == 400
        assert "JSON object" in response.get_json()["error"]


def test_start_answers_a_tracking_id_and_the_same_one_when_retried(processor: Processor) -> None:
    first = processor.start("regions", [_document()], experiment_id="exp-7")
    body = first.get_json()
    assert first.status_code == 200
    assert body["experiment_id"] == "exp-7"
    again = processor.start("regions", [_document()], experiment_id="exp-7").get_json()
    assert again["tracking_id"] == body["tracking_id"]
    status = processor.client.get(f"/regions/{body['tracking_id']}/status").get_json()
    assert status["tracking_id"] == body["tracking_id"]
    assert status["log"]["status"] == "PENDING"
    assert status["log"]["progress"] == [{"current": 0, "total": 1, "context": "documents"}]


def test_parameters_may_come_nested_and_unknown_ones_are_ignored(processor: Processor) -> None:
    tracking_id = processor.started(
        "similarity",
        [_document()],
        regions_treatment="t-1",
        parameters={"topk": 3, "feat_net": "default"},
    )
    job = db.session.get(Job, tracking_id)
    assert job is not None
    assert job.parameters["topk"] == 3
    assert job.parameters["feat_net"] == "ring_fourier"
    assert "regions_treatment" not in job.parameters


def test_status_and_cancel_of_an_unknown_job_are_404(processor: Processor) -> None:
    assert processor.client.get("/regions/nope/status").status_code == 404
    assert processor.client.post("/regions/nope/cancel").status_code == 404
    tracking_id = processor.started("regions", [_document()])
    # A job is known under its own task only.
    assert processor.client.get(f"/similarity/{tracking_id}/status").status_code == 404


def test_monitor_counts_jobs_and_queue(processor: Processor) -> None:
    processor.started("regions", [_document()])
    body = processor.client.get("/regions/monitor").get_json()
    assert body["jobs"] == {"PENDING": 1}
    assert body["queue"]["queued"] == 1
    assert body["outbox_pending"] == 0
    assert {"started", "failed", "finished", "scheduled"} <= set(body["queue"])


def test_monitor_says_when_redis_is_down(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        processor.app.config, "REDIS_URL", f"redis://127.0.0.1:{provision.free_port()}/0"
    )
    response = processor.client.get("/regions/monitor")
    assert response.status_code == 503
    assert "Redis" in response.get_json()["queue"]["error"]


def test_a_start_while_redis_is_down_is_kept_and_queued_later(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from processor.clock import sweep

    good = processor.app.config["REDIS_URL"]
    monkeypatch.setitem(
        processor.app.config, "REDIS_URL", f"redis://127.0.0.1:{provision.free_port()}/0"
    )
    tracking_id = processor.started("regions", [_document()])
    assert sweep() == 0  # Redis still down: nothing lost, nothing done
    monkeypatch.setitem(processor.app.config, "REDIS_URL", good)
    assert sweep() == 1
    assert sweep() == 0  # queued once, not again while it waits
    job = db.session.get(Job, tracking_id)
    assert job is not None
    assert job.rq_job_id


def test_result_files_outside_a_job_are_404(processor: Processor) -> None:
    for path in ("/results/abc/x.json", "/results/..%2f..%2fetc/passwd", "/results/abc/../../p"):
        response = processor.client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]


def test_internal_failures_are_500_json(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("processor.api.check_parameters", explode)
    response = processor.start("regions", [_document()])
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal error (RuntimeError)."}


def test_health(processor_app: Flask) -> None:
    assert processor_app.test_client().get("/healthz").get_json() == {"status": "ok"}


def test_jobs_survive_as_json(processor: Processor) -> None:
    tracking_id = processor.started("regions", [_document(uid="wit/1 é")])
    job = db.session.get(Job, tracking_id)
    assert job is not None
    assert json.loads(json.dumps(job.documents))[0]["uid"] == "wit/1 é"


def test_the_processor_imports_nothing_from_the_web_app() -> None:
    modules = sorted(f"processor.{p.stem}" for p in (ROOT / "processor").glob("*.py"))
    script = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'webapp', 'wsgi'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
