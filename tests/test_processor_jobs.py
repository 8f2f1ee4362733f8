"""The reference processor's jobs: documents in, result files and signed notifications out."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest

from processor import tasks
from processor.models import Job, db
from tests import provision
from tests.drawings import diagram, jpeg, page
from tests.processor_harness import Processor


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


def _box(crop: dict[str, Any]) -> tuple[float, ...]:
    box = crop["absolute"]
    return box["x1"], box["y1"], box["width"], box["height"]


def _bodies(processor: Processor, event: str) -> list[dict[str, Any]]:
    return [body for _, body in processor.received if body["event"] == event]


def test_regions_through_an_image_service_in_full_image_pixels(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are asked at most IMAGE_SIDE wide (DESIGN 6b); boxes come back at full size."""
    monkeypatch.setitem(processor.app.config, "IMAGE_SIDE", 1000)
    canvases = []
    for number in (1, 2):
        service = processor.server.url_for(f"/svc/p{number}")
        figure = (250, 420, 480) if number == 1 else None
        processor.serve(f"/svc/p{number}/full/1000,/0/default.jpg", jpeg(page(figure=figure)))
        resource = {
            "@id": f"{service}/full/full/0/default.jpg",
            "width": 2000,
            "height": 2800,
            "service": {"@id": service, "@context": "http://iiif.io/api/image/2/context.json"},
        }
        canvases.append({"width": 2000, "height": 2800, "images": [{"resource": resource}]})
    manifest = {"@type": "sc:Manifest", "sequences": [{"canvases": canvases}]}
    src = processor.serve("/wit1/manifest.json", manifest)
    tracking_id = processor.started("regions", [{"type": "iiif", "src": src, "uid": "wit1_dig1"}])
    processor.run_jobs()
    processor.deliver()

    assert processor.events() == ["STARTED", "PROGRESS", "SUCCESS"]
    progress = _bodies(processor, "PROGRESS")[0]
    assert progress["progress"] == {"current": 1, "total": 1}
    assert progress["tracking_id"] == tracking_id
    [entry] = progress["output"]["results_url"]
    assert entry["doc_id"] == "wit1_dig1"
    success = _bodies(processor, "SUCCESS")[0]
    assert success["success"] is True
    assert success["output"] == {"results_url": [entry], "error": []}

    first, second = json.loads(processor.result(entry["result_url"]))
    assert (first["source"], first["width"], first["height"]) == ("wit1_dig1_0001", 2000, 2800)
    [crop] = first["crops"]
    assert _iou(_box(crop), (500, 840, 960, 960)) > 0.6
    assert crop["crop_id"] == "wit1_dig1_0001_{x1},{y1},{width},{height}".format(**crop["absolute"])
    assert crop["class"]["label"] == "diagram"
    assert 0 < crop["confidence"] <= 1
    assert crop["relative"]["x1"] == pytest.approx(crop["absolute"]["x1"] / 2000)
    assert second["source"] == "wit1_dig1_0002"
    assert second["crops"] == []

    status = processor.client.get(f"/regions/{tracking_id}/status").get_json()
    assert status["log"]["status"] == "SUCCESS"
    assert status["log"]["progress"] == [{"current": 1, "total": 1, "context": "documents"}]


def test_regions_from_a_v3_manifest_of_plain_images(processor: Processor) -> None:
    src = processor.serve_pages("v3doc", 2, v3=True)
    processor.started("regions", [{"type": "iiif", "src": src, "uid": "v3doc"}])
    processor.run_jobs()
    processor.deliver()
    [entry] = _bodies(processor, "SUCCESS")[0]["output"]["results_url"]
    pages = json.loads(processor.result(entry["result_url"]))
    assert [p["source"] for p in pages] == ["v3doc_0001", "v3doc_0002"]
    assert all(len(p["crops"]) == 1 for p in pages)
    assert pages[0]["width"] == 1000  # no service: the image's own size


def test_images_are_fetched_once_across_jobs(processor: Processor) -> None:
    src = processor.serve_pages("cached", 2)
    for experiment in ("a", "b"):
        processor.started(
            "regions", [{"type": "iiif", "src": src, "uid": "cached"}], experiment_id=experiment
        )
    processor.run_jobs()
    image_requests = [r for r, _ in processor.server.log if r.path.endswith(".jpg")]
    manifest_requests = [r for r, _ in processor.server.log if r.path.endswith("manifest.json")]
    assert len(image_requests) == 2
    assert len(manifest_requests) == 2  # manifests may change; they are read every time


def test_bad_sources_are_errors_of_their_document_and_the_rest_goes_on(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(processor.app.config, "MAX_IMAGE_BYTES", 200_000)
    good = processor.serve_pages("good", 1)
    dead = f"http://localhost:{provision.free_port()}/manifest.json"
    html = processor.serve("/html/manifest.json", b"<html>hello</html>", "text/html")
    broken = {
        "@type": "sc:Manifest",
        "sequences": [
            {
                "canvases": [
                    {
                        "images": [
                            {
                                "resource": {
                                    "@id": processor.serve("/p/a.jpg", b"<html>", "text/html")
                                }
                            }
                        ]
                    },
                    {"images": [{"resource": {"@id": processor.serve("/p/b.jpg", b"not a jpeg")}}]},
                    {
                        "images": [
                            {"resource": {"@id": processor.serve("/p/c.jpg", b"x" * 300_000)}}
                        ]
                    },
                    {"images": [{"resource": {"@id": processor.server.url_for("/p/missing.jpg")}}]},
                    {"images": [{"resource": {"@id": processor.serve("/p/e.jpg", jpeg(page()))}}]},
                ]
            }
        ],
    }
    documents = [
        {"type": "iiif", "src": good, "uid": "good"},
        {"type": "iiif", "src": dead, "uid": "dead"},
        {"type": "iiif", "src": html, "uid": "html"},
        {"type": "iiif", "src": processor.serve("/broken/manifest.json", broken), "uid": "broken"},
        {
            "type": "iiif",
            "src": processor.serve("/odd/manifest.json", {"@type": "sc:Collection"}),
            "uid": "odd",
        },
    ]
    processor.started("regions", documents)
    processor.run_jobs()
    processor.deliver()

    assert processor.events() == [
        "STARTED",
        "PROGRESS",
        "ERROR",
        "ERROR",
        "PROGRESS",  # broken: one page of five could be read
        "ERROR",
        "SUCCESS",
    ]
    errors = [body["error"] for body in _bodies(processor, "ERROR")]
    assert all(body["completed"] is False for body in _bodies(processor, "ERROR"))
    assert errors[0].startswith("dead: ")
    assert "cannot be reached" in errors[0]
    assert errors[1].startswith("html: ")
    assert "not JSON" in errors[1]
    assert "not a IIIF manifest" in errors[2]
    output = _bodies(processor, "SUCCESS")[0]["output"]
    assert [e["doc_id"] for e in output["results_url"]] == ["good", "broken"]
    text = "\n".join(output["error"])
    assert "broken_0001: " in text
    assert "not an image (its type is text/html)" in text
    assert "broken_0002: " in text
    assert "not a readable image" in text
    assert "broken_0003: " in text
    assert "over the" in text
    assert "broken_0004: " in text
    assert "answered HTTP 500" in text


def test_a_job_whose_every_document_fails_ends_in_error(processor: Processor) -> None:
    dead = f"http://localhost:{provision.free_port()}/manifest.json"
    tracking_id = processor.started("regions", [{"type": "iiif", "src": dead, "uid": "dead"}])
    processor.run_jobs()
    processor.deliver()
    assert processor.events() == ["STARTED", "ERROR", "ERROR"]
    final = _bodies(processor, "ERROR")[-1]
    assert final["completed"] is True
    assert "cannot be reached" in final["error"]
    assert final["error"].startswith("No document could be processed (1 tried). First: dead: ")
    job = db.session.get(Job, tracking_id)
    assert job is not None
    assert job.status == "ERROR"


def _crops(processor: Processor, uid: str, drawings: dict[str, Any]) -> dict[str, str]:
    listing = {
        f"{uid}_0001_{index * 10},0,300,300": processor.serve(f"/{uid}/{index}.jpg", jpeg(image))
        for index, image in enumerate(drawings.values())
    }
    return {"type": "url_list", "src": processor.serve(f"/{uid}/list", listing), "uid": uid}


def test_vectorization_gives_one_svg_per_crop_in_a_zip(processor: Processor) -> None:
    document = _crops(processor, "wit1_anno5", {"a": diagram(300), "b": diagram(260, variant=1)})
    processor.started("vectorization", [document])
    processor.run_jobs()
    processor.deliver()
    [entry] = _bodies(processor, "SUCCESS")[0]["output"]["results_url"]
    assert entry["doc_id"] == "wit1_anno5"
    archive = zipfile.ZipFile(io.BytesIO(processor.result(entry["result_url"])))
    assert sorted(archive.namelist()) == [
        "wit1_anno5_0001_0,0,300,300.svg",
        "wit1_anno5_0001_10,0,300,300.svg",
    ]
    svg = ET.fromstring(archive.read("wit1_anno5_0001_0,0,300,300.svg"))
    circles = svg.findall("{http://www.w3.org/2000/svg}circle")
    lines = svg.findall("{http://www.w3.org/2000/svg}line")
    assert len(circles) >= 3
    assert len(lines) >= 2
    assert svg.get("width") == "300"


def test_large_crops_are_traced_smaller_and_drawn_at_their_size(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "VECTORIZE_SIDE", 200)
    document = _crops(processor, "big", {"a": diagram(400)})
    processor.started("vectorization", [document])
    processor.run_jobs()
    processor.deliver()
    [entry] = _bodies(processor, "SUCCESS")[0]["output"]["results_url"]
    archive = zipfile.ZipFile(io.BytesIO(processor.result(entry["result_url"])))
    svg = ET.fromstring(archive.read(archive.namelist()[0]))
    assert (svg.get("width"), svg.get("viewBox")) == ("400", "0 0 200 200")


def test_similarity_pairs_each_document_with_itself_and_the_earlier_ones(
    processor: Processor,
) -> None:
    first = _crops(processor, "docA", {"ring": diagram(300), "spokes": diagram(300, variant=3)})
    second = _crops(processor, "docB", {"ring": diagram(240), "spokes": diagram(280, variant=3)})
    processor.started("similarity", [first, second], topk=1, threshold=0.0)
    processor.run_jobs()
    processor.deliver()

    progress = _bodies(processor, "PROGRESS")
    assert [[e["doc_pair"] for e in p["output"]["results_url"]] for p in progress] == [
        ["docA"],
        ["docB", "docA-docB"],
    ]
    assert [p["progress"] for p in progress] == [
        {"current": 1, "total": 2},
        {"current": 2, "total": 2},
    ]
    across = progress[1]["output"]["results_url"][1]
    result = json.loads(processor.result(across["result_url"]))
    ids = [image["id"] for image in result["index"]["images"]]
    assert {image["doc_uid"] for image in result["index"]["images"]} == {"docA", "docB"}
    assert set(result["index"]["sources"]) == {"docA", "docB"}
    best = {(ids[i], ids[j]) for i, j, score, *_ in result["pairs"] if score > 0.9}
    assert ("docB_0001_0,0,300,300", "docA_0001_0,0,300,300") in best
    assert ("docB_0001_10,0,300,300", "docA_0001_10,0,300,300") in best
    assert len(_bodies(processor, "SUCCESS")[0]["output"]["results_url"]) == 3


def test_similarity_honours_skip_pairs(processor: Processor) -> None:
    first = _crops(processor, "docA", {"ring": diagram(300)})
    second = _crops(processor, "docB", {"ring": diagram(240)})
    skip = [["docA_0001_0,0,300,300", "docB_0001_0,0,300,300"]]
    processor.started("similarity", [first, second], topk=5, threshold=0.0, skip_pairs=skip)
    processor.run_jobs()
    processor.deliver()
    across = _bodies(processor, "PROGRESS")[1]["output"]["results_url"][1]
    assert json.loads(processor.result(across["result_url"]))["pairs"] == []


def test_cancel_stops_between_two_documents(
    processor: Processor, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tasks.RUNNERS["regions"]
    tracking_ids: list[str] = []

    def cancel_after_first(work: tasks.DocumentWork) -> list[dict[str, str]]:
        entries = real(work)
        response = processor.client.post(f"/regions/{tracking_ids[0]}/cancel")
        assert response.get_json()["cancel_requested"] is True
        return entries

    monkeypatch.setitem(tasks.RUNNERS, "regions", cancel_after_first)
    documents = [
        {"type": "iiif", "src": processor.serve_pages(uid, 1), "uid": uid}
        for uid in ("a", "b", "c")
    ]
    tracking_ids.append(processor.started("regions", documents))
    processor.run_jobs()
    processor.deliver()
    assert processor.events() == ["STARTED", "PROGRESS", "ERROR"]
    assert "cancelled" in _bodies(processor, "ERROR")[0]["error"]
    status = processor.client.get(f"/regions/{tracking_ids[0]}/status").get_json()
    assert status["log"]["status"] == "CANCELLED"
    assert status["log"]["progress"][0] == {"current": 1, "total": 3, "context": "documents"}


def test_cancel_before_the_start_ends_the_job_at_once(processor: Processor) -> None:
    src = processor.serve_pages("a", 1)
    tracking_id = processor.started("regions", [{"type": "iiif", "src": src, "uid": "a"}])
    assert (
        processor.client.post(f"/regions/{tracking_id}/cancel").get_json()["status"] == "CANCELLED"
    )
    assert processor.client.post(f"/regions/{tracking_id}/cancel").status_code == 200
    processor.run_jobs()
    processor.deliver()
    assert processor.events() == ["ERROR"]


def test_a_finished_job_cannot_be_cancelled(processor: Processor) -> None:
    src = processor.serve_pages("a", 1)
    tracking_id = processor.started("regions", [{"type": "iiif", "src": src, "uid": "a"}])
    processor.run_jobs()
    response = processor.client.post(f"/regions/{tracking_id}/cancel")
    assert response.status_code == 409
    assert "SUCCESS" in response.get_json()["error"]


def test_a_source_that_is_away_for_a_while_is_waited_for(processor: Processor) -> None:
    """A web app restarting answers 503, then nothing, then the image: the page is read."""
    from werkzeug.wrappers import Request, Response

    answers = [503, 503]
    image = jpeg(page(seed=3))

    def flaky(request: Request) -> Response:
        if answers:
            return Response("restarting", status=answers.pop(0))
        return Response(image, content_type="image/jpeg")

    processor.server.expect_request("/flaky/1.jpg").respond_with_handler(flaky)
    manifest = {
        "@type": "sc:Manifest",
        "sequences": [
            {
                "canvases": [
                    {"images": [{"resource": {"@id": processor.server.url_for("/flaky/1.jpg")}}]}
                ]
            }
        ],
    }
    src = processor.serve("/flaky/manifest.json", manifest)
    processor.started("regions", [{"type": "iiif", "src": src, "uid": "flaky"}])
    processor.run_jobs()
    processor.deliver()
    assert processor.events() == ["STARTED", "PROGRESS", "SUCCESS"]
    assert answers == []
    assert _bodies(processor, "SUCCESS")[0]["output"]["error"] == []
