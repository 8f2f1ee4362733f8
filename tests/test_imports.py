from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.conftest import json_body, run_jobs
from tests.factories import QUADRANTS, image_bytes, make_witness, pixel, quadrant_image
from tests.provision import free_port
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Witness
from webapp.extensions import db


@pytest.fixture
def witness(app: Flask, logged_in: User) -> Witness:
    return make_witness(logged_in)


def manifest_v2(base: str, sizes: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@id": f"{base}/manifest.json",
        "@type": "sc:Manifest",
        "label": "Codex remotus",
        "sequences": [
            {
                "@type": "sc:Sequence",
                "canvases": [
                    {
                        "@id": f"{base}/canvas/{i}",
                        "@type": "sc:Canvas",
                        "label": f"f. {i}r",
                        "width": w,
                        "height": h,
                        "images": [
                            {
                                "@type": "oa:Annotation",
                                "motivation": "sc:painting",
                                "on": f"{base}/canvas/{i}",
                                "resource": {
                                    "@id": f"{base}/img/{i}.png",
                                    "@type": "dctypes:Image",
                                },
                            }
                        ],
                    }
                    for i, (w, h) in enumerate(sizes, start=1)
                ],
            }
        ],
    }


def manifest_v3(base: str, count: int) -> dict[str, Any]:
    """Images reachable only through their image service, as many v3 manifests give them."""
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/v3.json",
        "type": "Manifest",
        "label": {"en": ["Codex tertius"]},
        "items": [
            {
                "id": f"{base}/c{i}",
                "type": "Canvas",
                "label": {"none": [f"p. {i}"]},
                "items": [
                    {
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {
                                    "type": "Image",
                                    "service": [
                                        {"id": f"{base}/iiif3/p{i}", "type": "ImageService3"}
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
            for i in range(1, count + 1)
        ],
    }


def _serve_images(httpserver: HTTPServer, paths: list[str], size: tuple[int, int]) -> None:
    for path in paths:
        httpserver.expect_request(path).respond_with_data(
            image_bytes(quadrant_image(*size)), content_type="image/png"
        )


def _serve_v2(httpserver: HTTPServer, pages: int, images: int | None = None) -> str:
    """A v2 manifest of 300x200 pages; only the first `images` of them serve an image."""
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/manifest.json").respond_with_json(
        manifest_v2(base, [(300, 200)] * pages)
    )
    served = pages if images is None else images
    _serve_images(httpserver, [f"/img/{i}.png" for i in range(1, served + 1)], (300, 200))
    return f"{base}/manifest.json"


def _import(client: FlaskClient, witness: Witness, url: str) -> Any:
    return client.post(
        f"/catalog/witnesses/{witness.id}/import", data={"manifest_url": url, "label": ""}
    )


def test_import_a_v2_manifest_round_trip(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    response = _import(client, witness, _serve_v2(httpserver, 3))
    assert response.status_code == 302
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert (digitization.status, digitization.pages_total) == ("PENDING", 3)
    assert digitization.label == "Codex remotus"
    assert digitization.ref.endswith(f"_man{digitization.id}")
    status = client.get(f"/catalog/digitizations/{digitization.id}/status")
    assert status.status_code == 200
    assert "0 of 3 images copied" in status.get_data(as_text=True)

    run_jobs()
    db.session.expire_all()
    assert digitization.status == "SUCCESS"
    assert digitization.pages_done == 3
    assert [(p.order, p.width, p.height, p.label) for p in digitization.pages] == [
        (1, 300, 200, "f. 1r"),
        (2, 300, 200, "f. 2r"),
        (3, 300, 200, "f. 3r"),
    ]
    done = client.get(f"/catalog/digitizations/{digitization.id}/status")
    assert done.status_code == 286

    # The copied images are served by our own image service, and named in our own manifest.
    with client.get(f"/iiif/image/{digitization.ref}_0002/0,0,10,10/max/0/default.jpg") as image:
        copied = Image.open(io.BytesIO(image.data)).convert("RGB")
    assert all(abs(a - b) < 12 for a, b in zip(pixel(copied, (5, 5)), QUADRANTS[0], strict=True))
    manifest = json_body(client.get(f"/iiif/{digitization.ref}/manifest.json"))
    assert len(manifest["sequences"][0]["canvases"]) == 3


def test_a_manifest_label_too_long_for_its_field_is_shortened_visibly(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    base = httpserver.url_for("").rstrip("/")
    manifest = manifest_v2(base, [(300, 200)])
    manifest["label"] = "Liber de sphaera " * 400  # 6,800 characters
    manifest["sequences"][0]["canvases"][0]["label"] = "folio " * 100
    httpserver.expect_request("/manifest.json").respond_with_json(manifest)
    _serve_images(httpserver, ["/img/1.png"], (300, 200))
    assert _import(client, witness, f"{base}/manifest.json").status_code == 302
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert len(digitization.label) <= 300
    assert digitization.label.startswith("Liber de sphaera Liber")
    assert digitization.label.endswith(" de…")  # cut at a word
    (page,) = digitization.pages
    assert len(page.label) <= 200
    assert page.label.endswith("folio…")


def test_import_a_v3_manifest_through_its_image_service(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/v3.json").respond_with_json(manifest_v3(base, 2))
    _serve_images(httpserver, [f"/iiif3/p{i}/full/max/0/default.jpg" for i in (1, 2)], (120, 80))
    assert _import(client, witness, f"{base}/v3.json").status_code == 302
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.status == "SUCCESS"
    assert digitization.label == "Codex tertius"
    assert [p.label for p in digitization.pages] == ["p. 1", "p. 2"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<html>not json</html>", "text/html", "does not return JSON"),
        (
            b'{"@type": "sc:Collection"}',
            "application/json",
            "its type is not Manifest",
        ),
        (b'{"label": "x"}', "application/json", "it has no @type or type"),
        (b"[1, 2]", "application/json", "not a JSON object"),
        (b'{"@type": "sc:Manifest", "sequences": []}', "application/json", "no sequence"),
        (
            b'{"@type": "sc:Manifest", "sequences": [{"canvases": [{"images": []}]}]}',
            "application/json",
            "Canvas 1 of the manifest has no image",
        ),
        (b'{"type": "Manifest", "items": []}', "application/json", "no pages"),
        (b'{"type": "Manifest", "items": [{"items": []}]}', "application/json", "no painted image"),
    ],
)
def test_a_bad_manifest_gets_a_clear_error_and_creates_nothing(
    client: FlaskClient,
    witness: Witness,
    httpserver: HTTPServer,
    body: bytes,
    content_type: str,
    message: str,
) -> None:
    httpserver.expect_request("/m.json").respond_with_data(body, content_type=content_type)
    response = _import(client, witness, httpserver.url_for("/m.json"))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Digitization)) is None


def test_unreachable_or_failing_manifest_urls(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/gone.json").respond_with_data("no", status=404)
    cases = {
        f"http://localhost:{free_port()}/manifest.json": "cannot be reached",
        httpserver.url_for("/gone.json"): "answered HTTP 404",
        "ftp://example.org/manifest.json": "http(s) URL",
        "not a url": "http(s) URL",
        "": "This field is required",
    }
    for url, message in cases.items():
        response = _import(client, witness, url)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True), url
    assert db.session.scalar(select(Digitization)) is None


def test_a_page_that_is_not_an_image_is_that_pages_error_and_the_rest_is_kept(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    url = _serve_v2(httpserver, 3, images=1)
    httpserver.expect_request("/img/2.png").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )
    _serve_images(httpserver, ["/img/3.png"], (300, 200))
    _import(client, witness, url)
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.status == "SUCCESS"
    assert digitization.message == "2 of 3 images copied, 1 failed."
    assert list(digitization.page_errors) == ["2"]
    assert "not an image" in digitization.page_errors["2"]
    assert [p.order for p in digitization.pages] == [1, 3]
    page = client.get(f"/catalog/digitizations/{digitization.id}").get_data(as_text=True)
    assert "Page 2:" in page
    assert "not an image" in page
    assert [e.event for e in digitization.events] == ["IN_PROGRESS", "SUCCESS"]


def test_an_import_whose_every_page_fails_ends_in_error(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    url = _serve_v2(httpserver, 1, images=0)
    httpserver.expect_request("/img/1.png").respond_with_data("no", content_type="text/html")
    _import(client, witness, url)
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.status == "ERROR"
    assert digitization.error.startswith("No image could be copied.")


def test_an_image_over_the_cap_is_refused(
    app: Flask,
    client: FlaskClient,
    witness: Witness,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "MAX_IMAGE_MB", 0)
    _import(client, witness, _serve_v2(httpserver, 1))
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.status == "ERROR"
    assert "over the" in digitization.error


def _png_header(width: int, height: int) -> bytes:
    """A PNG that says its size and holds no pixels: what a header check reads first."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_an_image_far_too_large_is_said_to_be_too_large(
    client: FlaskClient, witness: Witness
) -> None:
    response = _upload(client, witness, [(_png_header(30_000, 30_000), "huge.png")])
    assert response.status_code == 400
    said = response.get_data(as_text=True)
    assert "huge.png is too large an image (900 million pixels; the limit is" in said
    assert "not an image we can read" not in said


def _upload(client: FlaskClient, witness: Witness, files: list[tuple[bytes, str]]) -> Any:
    return client.post(
        f"/catalog/witnesses/{witness.id}/upload",
        data={"images": [(io.BytesIO(data), name) for data, name in files], "label": "Scans"},
        content_type="multipart/form-data",
    )


def test_upload_page_images(client: FlaskClient, witness: Witness) -> None:
    files = [
        (image_bytes(quadrant_image(200, 100), "PNG"), "f1.png"),
        (image_bytes(quadrant_image(100, 200), "JPEG"), "f2.jpg"),
    ]
    response = _upload(client, witness, files)
    assert response.status_code == 302
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert digitization.source == "img"
    assert digitization.pages == []  # decoded by a job, one at a time
    run_jobs()
    db.session.expire_all()
    assert digitization.status == "SUCCESS"
    assert not list((Path(client.application.config["STORAGE_DIR"]) / "incoming").glob("*/*"))
    assert [(p.width, p.height, p.label) for p in digitization.pages] == [
        (200, 100, "f1.png"),
        (100, 200, "f2.jpg"),
    ]


@pytest.mark.parametrize("csrf", [False, True])
def test_an_upload_over_the_limit_says_the_limit_on_the_witness_page(
    app: Flask,
    client: FlaskClient,
    witness: Witness,
    monkeypatch: pytest.MonkeyPatch,
    csrf: bool,
) -> None:
    # The check of the form's CSRF token reads the body first: the limit is met there too.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    big = image_bytes(quadrant_image(), "PNG") + b"\0" * (3 * 1024 * 1024)
    # Encoded in memory: the test client would spool so large a body to a file it leaves open.
    boundary, body = encode_multipart(
        MultiDict({"images": FileStorage(io.BytesIO(big), "big.png"), "label": "Scans"})
    )
    with client.post(
        f"/catalog/witnesses/{witness.id}/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    ) as response:
        assert response.status_code == 413
        page = response.get_data(as_text=True)
    assert "These files are larger than 2 MB in all: send them in smaller batches." in page
    assert 'data-max-bytes="2097152"' in page  # the page checks the next batch before sending
    assert witness.siglum in page
    assert db.session.scalar(select(Digitization)) is None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([(b"just text", "notes.txt")], "Only image files"),
        ([(b"just text", "fake.jpg")], "fake.jpg is not an image"),
        ([(image_bytes(quadrant_image(), "PNG")[:300], "cut.png")], "cut.png"),
        ([], "Choose at least one image"),
    ],
)
def test_bad_uploads_are_refused_and_keep_nothing(
    client: FlaskClient, witness: Witness, files: list[tuple[bytes, str]], message: str
) -> None:
    good = (image_bytes(quadrant_image(), "PNG"), "good.png")
    response = _upload(client, witness, [good, *files] if files else [])
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Digitization)) is None
    assert db.session.scalar(select(Page)) is None


def test_oversized_uploads_are_refused(
    app: Flask, client: FlaskClient, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = image_bytes(Image.effect_noise((300, 300), 80).convert("RGB"), "PNG")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(big) // 2)
    response = _upload(client, witness, [(big, "big.png")])
    assert response.status_code == 413
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10 * len(big))
    monkeypatch.setitem(app.config, "MAX_IMAGE_MB", 0)
    response = _upload(client, witness, [(big, "big.png")])
    assert response.status_code == 400
    assert "larger than" in response.get_data(as_text=True)
    assert db.session.scalar(select(Digitization)) is None


def test_a_server_away_for_a_while_is_tried_again_later(
    app: Flask,
    client: FlaskClient,
    witness: Witness,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from werkzeug.wrappers import Request, Response

    monkeypatch.setitem(app.config, "IMPORT_RETRY_DELAYS", [0.0, 0.0])
    url = _serve_v2(httpserver, 2, images=1)
    answers = [503] * 3  # more than the HTTP client retries at once

    def restarting(request: Request) -> Response:
        if answers:
            return Response("restarting", status=answers.pop())
        return Response(image_bytes(quadrant_image(300, 200)), content_type="image/png")

    httpserver.expect_request("/img/2.png").respond_with_handler(restarting)
    _import(client, witness, url)
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert (digitization.status, digitization.pages_done, digitization.attempts) == (
        "SUCCESS",
        2,
        1,
    )
    assert digitization.page_errors == {}


def test_a_server_away_too_long_fails_its_page_only(
    app: Flask,
    client: FlaskClient,
    witness: Witness,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "IMPORT_RETRY_DELAYS", [0.0])
    url = _serve_v2(httpserver, 2, images=1)
    httpserver.expect_request("/img/2.png").respond_with_data("down", status=503)
    _import(client, witness, url)
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    assert (digitization.status, digitization.pages_done) == ("SUCCESS", 1)
    assert "HTTP 503" in digitization.page_errors["2"]


def test_an_import_can_be_cancelled_and_keeps_what_was_copied(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    from webapp.catalog.iiif_import import copy_manifest_images

    _import(client, witness, _serve_v2(httpserver, 3))
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    response = client.post(f"/catalog/digitizations/{digitization.id}/cancel")
    assert response.status_code == 302
    copy_manifest_images(digitization.id)  # the job, arriving late, copies nothing
    db.session.expire_all()
    assert digitization.status == "CANCELLED"
    assert digitization.pages_done == 0
    page = client.get(f"/catalog/digitizations/{digitization.id}").get_data(as_text=True)
    assert "Cancelled by" in page
    again = client.post(f"/catalog/digitizations/{digitization.id}/cancel", follow_redirects=True)
    assert "already ended" in again.get_data(as_text=True)


def test_someone_else_cannot_cancel_an_import(
    client: FlaskClient, witness: Witness, httpserver: HTTPServer, other_user: User
) -> None:
    _import(client, witness, _serve_v2(httpserver, 1))
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    client.post("/logout")
    client.post("/login", data={"email": other_user.email, "password": "correct horse battery"})
    assert client.post(f"/catalog/digitizations/{digitization.id}/cancel").status_code == 403


def test_an_import_whose_job_was_lost_is_queued_again_and_resumes(
    app: Flask, client: FlaskClient, witness: Witness, httpserver: HTTPServer
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.columns import utcnow
    from webapp.extensions import get_queue
    from webapp.treatments.clock import dispatch

    _import(client, witness, _serve_v2(httpserver, 2))
    get_queue().delete(delete_jobs=True)  # Redis lost it
    assert dispatch() == 0  # too recent
    db.session.execute(update(Digitization).values(updated_at=utcnow() - timedelta(seconds=3600)))
    db.session.commit()
    assert dispatch() == 1
    assert dispatch() == 0
    run_jobs()
    digitization = db.session.scalar(select(Digitization))
    assert digitization is not None
    db.session.refresh(digitization)
    assert (digitization.status, digitization.pages_done) == ("SUCCESS", 2)
