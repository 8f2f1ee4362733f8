"""Import a remote IIIF manifest (Presentation 2 or 3): check it now, copy its images in a job."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Witness
from webapp.errors import UserError
from webapp.extensions import db, get_queue
from webapp.http import fetch, http_session
from webapp.images import load_image
from webapp.lifecycle import Status

log = logging.getLogger(__name__)

MAX_MANIFEST_BYTES = 20_000_000
MAX_PAGES = 5_000


@dataclass(frozen=True)
class ManifestPage:
    label: str
    image_url: str


def _label(value: Any) -> str:
    """A IIIF label as plain text: a string, a v2 list/object or a v3 language map."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _label(value[0])
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])
        for texts in value.values():
            if isinstance(texts, list) and texts:
                return str(texts[0])
    return ""


def _service_image_url(service: Any, v3: bool) -> str | None:
    services = service if isinstance(service, list) else [service]
    for candidate in services:
        if isinstance(candidate, dict):
            base = candidate.get("@id") or candidate.get("id")
            if isinstance(base, str) and base:
                size = "max" if v3 or "image/3" in str(candidate.get("@context", "")) else "full"
                return f"{base.rstrip('/')}/full/{size}/0/default.jpg"
    return None


def _image_url(resource: Any, v3: bool) -> str | None:
    if not isinstance(resource, dict):
        return None
    url = resource.get("id") if v3 else resource.get("@id")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url
    return _service_image_url(resource.get("service"), v3)


def _v2_pages(manifest: dict[str, Any]) -> list[ManifestPage]:
    sequences = manifest.get("sequences")
    if not isinstance(sequences, list) or not sequences or not isinstance(sequences[0], dict):
        raise UserError("The manifest has no sequence of canvases.")
    pages = []
    for index, canvas in enumerate(sequences[0].get("canvases") or [], start=1):
        images = canvas.get("images") if isinstance(canvas, dict) else None
        if not isinstance(images, list) or not images or not isinstance(images[0], dict):
            raise UserError(f"Canvas {index} of the manifest has no image.")
        url = _image_url(images[0].get("resource"), v3=False)
        if url is None:
            raise UserError(f"Canvas {index} of the manifest has no usable image URL.")
        pages.append(ManifestPage(_label(canvas.get("label")) or f"p. {index}", url))
    return pages


def _v3_pages(manifest: dict[str, Any]) -> list[ManifestPage]:
    pages = []
    for index, canvas in enumerate(manifest.get("items") or [], start=1):
        try:
            body = canvas["items"][0]["items"][0]["body"]
        except (KeyError, IndexError, TypeError):
            raise UserError(f"Canvas {index} of the manifest has no painted image.") from None
        if isinstance(body, list):
            body = body[0] if body else None
        url = _image_url(body, v3=True)
        if url is None:
            raise UserError(f"Canvas {index} of the manifest has no usable image URL.")
        pages.append(ManifestPage(_label(canvas.get("label")) or f"p. {index}", url))
    return pages


def parse_manifest(manifest: Any) -> tuple[str, list[ManifestPage]]:
    """The label and pages of a Presentation 2 or 3 manifest, or a UserError saying why not."""
    if not isinstance(manifest, dict):
        raise UserError("The document is not a IIIF manifest (not a JSON object).")
    kind = manifest.get("@type") or manifest.get("type")
    if kind not in {"sc:Manifest", "Manifest"}:
        raise UserError(f"The document is not a IIIF manifest (its type is {kind!r}).")
    pages = _v3_pages(manifest) if kind == "Manifest" else _v2_pages(manifest)
    if not pages:
        raise UserError("The manifest has no pages.")
    if len(pages) > MAX_PAGES:
        raise UserError(f"The manifest has {len(pages)} pages; the limit is {MAX_PAGES}.")
    return _label(manifest.get("label")), pages


def fetch_manifest(url: str) -> tuple[str, list[ManifestPage]]:
    body, _ = fetch(url, max_bytes=MAX_MANIFEST_BYTES, timeout=current_app.config["IMPORT_TIMEOUT"])
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError("The URL does not return JSON; is it a IIIF manifest URL?") from exc
    return parse_manifest(data)


def start_import(witness: Witness, url: str, user: User, label: str = "") -> Digitization:
    """Check the manifest, then record the digitization and queue the copy of its images."""
    manifest_label, pages = fetch_manifest(url)
    digitization = Digitization(
        witness=witness,
        source="man",
        manifest_url=url.strip(),
        label=label.strip() or manifest_label[:300],
        status=Status.PENDING,
        pages_total=len(pages),
        created_by_id=user.id,
    )
    db.session.add(digitization)
    db.session.commit()
    get_queue().enqueue(
        copy_manifest_images,
        digitization.id,
        [(p.label, p.image_url) for p in pages],
        job_timeout=max(600, 30 * len(pages)),
    )
    return digitization


def copy_manifest_images(digitization_id: int, pages: list[tuple[str, str]]) -> None:
    """RQ job: copy every page image into our storage, recording progress as it goes."""
    digitization = db.session.get(Digitization, digitization_id)
    if digitization is None:
        return
    digitization.status = Status.IN_PROGRESS
    db.session.commit()
    done = {page.order for page in digitization.pages}
    max_bytes = current_app.config["MAX_IMAGE_MB"] * 1_000_000
    timeout = current_app.config["IMPORT_TIMEOUT"]
    session = http_session()
    try:
        for order, (page_label, url) in enumerate(pages, start=1):
            if order in done:
                continue
            body, _ = fetch(url, max_bytes=max_bytes, timeout=timeout, session=session)
            image = load_image(body, f"Page {order} ({url})")
            path, width, height = storage.save_page_image(digitization_id, order, image)
            db.session.add(
                Page(
                    digitization_id=digitization_id,
                    order=order,
                    width=width,
                    height=height,
                    file=path,
                    label=page_label[:200],
                    source_url=url,
                )
            )
            digitization.pages_done = order
            db.session.commit()
    except UserError as exc:
        db.session.rollback()
        digitization.status = Status.ERROR
        digitization.error = str(exc)
        db.session.commit()
        return
    except Exception:
        log.exception("import of digitization %s failed", digitization_id)
        db.session.rollback()
        digitization.status = Status.ERROR
        digitization.error = "The import failed unexpectedly; the error has been logged."
        db.session.commit()
        raise
    digitization.status = Status.SUCCESS
    db.session.commit()
