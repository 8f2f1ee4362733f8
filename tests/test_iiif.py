from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.conftest import json_body
from tests.factories import QUADRANTS, make_digitization, make_witness, pixel
from webapp.auth.models import User
from webapp.catalog.models import Digitization
from webapp.errors import UserError
from webapp.iiif.image_api import Box, Limits, parse_region, parse_size


@pytest.fixture
def scan(app: Flask, user: User) -> Digitization:
    return make_digitization(make_witness(user), pages=3, size=(400, 300))


def _get(client: FlaskClient, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "image/jpeg"
        return bytes(response.data)


def _image(client: FlaskClient, url: str) -> Image.Image:
    return Image.open(io.BytesIO(_get(client, url))).convert("RGB")


def _close(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))


def test_regions_give_the_right_pixels(client: FlaskClient, scan: Digitization) -> None:
    base = f"/iiif/image/{scan.ref}_0001"
    red, green, blue, white = QUADRANTS
    full = _image(client, f"{base}/full/max/0/default.jpg")
    assert full.size == (400, 300)
    crop = _image(client, f"{base}/210,10,100,50/max/0/default.jpg")
    assert crop.size == (100, 50)
    assert _close(pixel(crop, (50, 25)), green)
    straddle = _image(client, f"{base}/150,100,100,100/max/0/default.jpg")
    assert _close(pixel(straddle, (10, 10)), red)
    assert _close(pixel(straddle, (90, 10)), green)
    assert _close(pixel(straddle, (10, 90)), blue)
    assert _close(pixel(straddle, (90, 90)), white)


def test_regions_beyond_the_edge_are_clipped(client: FlaskClient, scan: Digitization) -> None:
    clipped = _image(client, f"/iiif/image/{scan.ref}_0001/350,250,500,500/max/0/default.jpg")
    assert clipped.size == (50, 50)
    assert _close(pixel(clipped, (25, 25)), QUADRANTS[3])


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("max", (400, 300)),
        ("full", (400, 300)),
        ("200,", (200, 150)),
        (",150", (200, 150)),
        ("100,40", (100, 40)),
        ("pct:50", (200, 150)),
    ],
)
def test_sizes(
    client: FlaskClient, scan: Digitization, size: str, expected: tuple[int, int]
) -> None:
    image = _image(client, f"/iiif/image/{scan.ref}_0002/full/{size}/0/default.jpg")
    assert image.size == expected
    assert _close(pixel(image, (2, 2)), QUADRANTS[0])


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("bad/max/0/default.jpg", "Region"),
        ("1,2,3/max/0/default.jpg", "Region"),
        ("0,0,0,10/max/0/default.jpg", "width and a height"),
        ("500,0,10,10/max/0/default.jpg", "outside"),
        ("full/,/0/default.jpg", "width, a height"),
        ("full/0,/0/default.jpg", "empty"),
        ("full/800,/0/default.jpg", "upscaling"),
        ("full/abc/0/default.jpg", "Size"),
        ("full/max/90/default.jpg", "rotation"),
        ("full/max/0/bitonal.jpg", "qualit"),
        ("full/max/0/default.png", "jpg"),
        ("-1,0,10,10/max/0/default.jpg", "Region"),
    ],
)
def test_malformed_requests_are_400_with_a_reason(
    client: FlaskClient, scan: Digitization, path: str, message: str
) -> None:
    response = client.get(f"/iiif/image/{scan.ref}_0001/{path}")
    assert response.status_code == 400
    assert message in json_body(response)["message"]


def test_unknown_pages_are_404(client: FlaskClient, scan: Digitization) -> None:
    other_witness = scan.witness_id + 1
    for page in [
        f"{scan.ref}_0004",
        f"wit{other_witness}_img{scan.id}_0001",
        f"wit{scan.witness_id}_man{scan.id}_0001",
        "nonsense",
        "..%2F..%2Fetc",
    ]:
        assert client.get(f"/iiif/image/{page}/info.json").status_code == 404


def test_info_json(client: FlaskClient, scan: Digitization) -> None:
    response = client.get(f"/iiif/image/{scan.ref}_0001/info.json")
    info = json_body(response)
    assert info["@context"] == "http://iiif.io/api/image/2/context.json"
    assert info["@id"] == f"http://localhost/iiif/image/{scan.ref}_0001"
    assert (info["width"], info["height"]) == (400, 300)
    assert info["profile"][0] == "http://iiif.io/api/image/2/level1.json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    base = client.get(f"/iiif/image/{scan.ref}_0001")
    assert base.status_code == 303
    assert base.headers["Location"].endswith("/info.json")


def test_derived_images_are_cached(app: Flask, client: FlaskClient, scan: Digitization) -> None:
    url = f"/iiif/image/{scan.ref}_0001/0,0,100,100/50,/0/default.jpg"
    first = _get(client, url)
    cached = list(Path(app.config["STORAGE_DIR"], "cache").rglob("*.jpg"))
    assert len(cached) == 1
    assert _get(client, url) == first
    assert list(Path(app.config["STORAGE_DIR"], "cache").rglob("*.jpg")) == cached


def test_manifest_follows_presentation_2(client: FlaskClient, scan: Digitization) -> None:
    """The structure the Presentation API 2.1 requires of a manifest, its sequence and canvases."""
    response = client.get(f"/iiif/{scan.ref}/manifest.json")
    assert response.status_code == 200
    manifest = json_body(response)
    assert manifest["@context"] == "http://iiif.io/api/presentation/2/context.json"
    assert manifest["@type"] == "sc:Manifest"
    assert manifest["@id"] == f"http://localhost/iiif/{scan.ref}/manifest.json"
    assert isinstance(manifest["label"], str)
    assert manifest["label"]
    assert len(manifest["sequences"]) == 1
    sequence = manifest["sequences"][0]
    assert sequence["@type"] == "sc:Sequence"
    canvases = sequence["canvases"]
    assert len(canvases) == 3
    assert len({c["@id"] for c in canvases}) == 3
    for order, canvas in enumerate(canvases, start=1):
        assert canvas["@type"] == "sc:Canvas"
        assert canvas["label"]
        assert (canvas["width"], canvas["height"]) == (400, 300)
        (annotation,) = canvas["images"]
        assert annotation["@type"] == "oa:Annotation"
        assert annotation["motivation"] == "sc:painting"
        assert annotation["on"] == canvas["@id"]
        resource = annotation["resource"]
        assert resource["@type"] == "dctypes:Image"
        assert resource["format"] == "image/jpeg"
        service = resource["service"]
        assert service["@context"] == "http://iiif.io/api/image/2/context.json"
        assert service["profile"] == "http://iiif.io/api/image/2/level1.json"
        assert service["@id"] == f"http://localhost/iiif/image/{scan.ref}_{order:04d}"
        assert _get(client, resource["@id"].removeprefix("http://localhost"))


def test_manifest_refs_must_match_exactly(client: FlaskClient, scan: Digitization) -> None:
    for ref in [
        f"wit{scan.witness_id + 1}_img{scan.id}",
        f"wit{scan.witness_id}_man{scan.id}",
        f"wit{scan.witness_id}",
        f"{scan.ref}_anno3",
        "foo",
    ]:
        assert client.get(f"/iiif/{ref}/manifest.json").status_code == 404


def test_iiif_can_require_a_session(
    app: Flask, client: FlaskClient, scan: Digitization, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "IIIF_PUBLIC", False)
    assert client.get(f"/iiif/{scan.ref}/manifest.json").status_code == 302
    assert client.get(f"/iiif/image/{scan.ref}_0001/info.json").status_code == 302


def test_region_and_size_parsing() -> None:
    limits = Limits(300, 300, 10_000)
    assert parse_region("full", 10, 20) == Box(0, 0, 10, 20)
    assert parse_size("5,", Box(0, 0, 10, 20), limits) == (5, 10)
    # `max` is the largest within the limits; anything larger is refused.
    assert parse_size("max", Box(0, 0, 400, 200), limits) == (141, 70)
    for size in ("full", "150,", "pct:100", f"pct:{'9' * 400}", f"{'9' * 400},"):
        with pytest.raises(UserError):
            parse_size(size, Box(0, 0, 400, 200), limits)
    with pytest.raises(UserError):
        parse_region(f"{'9' * 400},0,5,5", 10, 20)
    with pytest.raises(UserError):
        parse_region("10,0,5,5", 10, 20)
