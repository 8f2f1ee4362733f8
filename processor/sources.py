"""What a document stands for, and its images: IIIF manifests (v2, v3), `url_list` sources,
downloads with timeouts, size caps and content-type checks, and a cache of images by URL."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from PIL import Image, UnidentifiedImageError

from outbound import OutboundError, Policy, get, parse_hosts

DOCUMENT_TYPES = ("iiif", "url_list")
MAX_PIXELS = 120_000_000
USER_AGENT = "Scriptorium-processor/0.1"

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A document or image could not be read; the message says which and why."""


class SourceUnavailable(SourceError):
    """The source is away for now (no connection, a time-out, a 5xx or 429): worth waiting."""


@dataclass(frozen=True)
class SourceImage:
    """An image to process: its id in results (`<uid>_<NNNN>` for a page, the crop id for a
    `url_list` entry), where to fetch it, and the full image's size when the source says."""

    id: str
    url: str
    width: int | None = None
    height: int | None = None


def check_url(url: Any) -> str:
    if not isinstance(url, str):
        raise SourceError(f"{url!r} is not a URL.")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SourceError(f"{url!r} is not an http(s) URL.")
    return url.strip()


def download(url: str, max_bytes: int) -> tuple[bytes, str]:
    """GET a URL into memory: its body and content type, or a SourceError saying why not.

    A source that is away (a web app restarting, a 503) is tried again with a growing delay
    for FETCH_RETRY_SECONDS before the document fails: a short outage is waited out.
    """
    deadline = time.monotonic() + current_app.config["FETCH_RETRY_SECONDS"]
    delay = 1.0
    while True:
        try:
            return _download_once(url, max_bytes)
        except SourceUnavailable as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("%s; trying again in %.0f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def policy(max_bytes: int, seconds: float) -> Policy:
    """The outbound policy for what this processor fetches or posts to (the one place)."""
    return Policy(
        allowed_private=parse_hosts(current_app.config["ALLOWED_PRIVATE_HOSTS"]),
        max_bytes=max_bytes,
        seconds=seconds,
        headers={"User-Agent": USER_AGENT},
    )


def _download_once(url: str, max_bytes: int) -> tuple[bytes, str]:
    try:
        fetched = get(url, policy(max_bytes, current_app.config["FETCH_TIMEOUT"]))
    except OutboundError as exc:
        raise (SourceUnavailable if exc.transient else SourceError)(str(exc)) from exc
    return fetched.body, fetched.content_type


def _json(url: str) -> Any:
    body, _ = download(check_url(url), current_app.config["MAX_JSON_BYTES"])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{url} is not JSON.") from exc


def _first(value: Any) -> Any:
    return (value[0] if value else None) if isinstance(value, list) else value


def _size(*candidates: Any) -> tuple[int | None, int | None]:
    for candidate in candidates:
        if isinstance(candidate, dict):
            width, height = candidate.get("width"), candidate.get("height")
            if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
                return width, height
    return None, None


def _page_image(uid: str, position: int, canvas: Any, resource: Any, v3: bool) -> SourceImage:
    """One canvas's image, through its image service when it has one (DESIGN 6b)."""
    page_id = f"{uid}_{position:04d}"
    if not isinstance(resource, dict):
        raise SourceError(f"Canvas {position} of {uid} has no image.")
    service = _first(resource.get("service"))
    width, height = _size(resource, canvas)
    base = (service.get("id") or service.get("@id")) if isinstance(service, dict) else None
    if isinstance(base, str) and base.startswith(("http://", "https://")):
        side = current_app.config["IMAGE_SIDE"]
        if width:
            size = f"{min(width, side)},"
        else:
            size = "max" if v3 or "image/3" in str(service.get("@context", "")) else "full"
        return SourceImage(page_id, f"{base.rstrip('/')}/full/{size}/0/default.jpg", width, height)
    url = resource.get("id" if v3 else "@id")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return SourceImage(page_id, url, width, height)
    raise SourceError(f"Canvas {position} of {uid} has no usable image URL.")


def manifest_images(uid: str, manifest: Any) -> list[SourceImage]:
    if not isinstance(manifest, dict) or manifest.get("@type", manifest.get("type")) not in {
        "sc:Manifest",
        "Manifest",
    }:
        raise SourceError(f"The source of {uid} is not a IIIF manifest.")
    images = []
    if manifest.get("type") == "Manifest":
        for position, canvas in enumerate(manifest.get("items") or [], start=1):
            try:
                body = _first(canvas["items"][0]["items"][0]["body"])
            except (KeyError, IndexError, TypeError):
                body = None
            images.append(_page_image(uid, position, canvas, body, v3=True))
    else:
        sequence = _first(manifest.get("sequences"))
        canvases = sequence.get("canvases") if isinstance(sequence, dict) else None
        for position, canvas in enumerate(canvases or [], start=1):
            image = _first(canvas.get("images")) if isinstance(canvas, dict) else None
            resource = image.get("resource") if isinstance(image, dict) else None
            images.append(_page_image(uid, position, canvas, resource, v3=False))
    if not images:
        raise SourceError(f"The manifest of {uid} has no pages.")
    return images


def url_list_images(uid: str, listing: Any) -> list[SourceImage]:
    if not isinstance(listing, dict) or not all(isinstance(v, str) for v in listing.values()):
        raise SourceError(f"The source of {uid} is not a list of image URLs by id.")
    return [SourceImage(str(key), check_url(url)) for key, url in listing.items()]


def document_images(document: dict[str, str]) -> list[SourceImage]:
    """The images a document stands for, in order."""
    uid, src = document["uid"], document["src"]
    if document["type"] == "iiif":
        return manifest_images(uid, _json(src))
    return url_list_images(uid, _json(src))


def _cache_path(url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()
    return Path(current_app.config["DATA_DIR"]) / "images" / digest[:2] / digest


def _decode(content: bytes, url: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise SourceError(
                    f"{url} is too large an image ({probe.width} by {probe.height} pixels)."
                )
            probe.load()
            decoded: Image.Image = probe.convert("RGB")
            return decoded
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise SourceError(f"{url} is not a readable image.") from exc


def load_image(url: str) -> Image.Image:
    """The image at a URL, fetched once across jobs: kept by URL once it has decoded."""
    path = _cache_path(url)
    if path.exists():
        return _decode(path.read_bytes(), url)
    content, kind = download(check_url(url), current_app.config["MAX_IMAGE_BYTES"])
    if not kind.startswith("image/"):
        raise SourceError(f"{url} is not an image (its type is {kind or 'not given'}).")
    image = _decode(content, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as partial:
        partial.write(content)
    os.replace(partial.name, path)
    return image
