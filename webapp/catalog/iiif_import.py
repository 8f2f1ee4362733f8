"""Import a remote IIIF manifest (Presentation 2 or 3): check it now, copy its images in a job."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from PIL import Image
from sqlalchemy import or_, select

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Witness
from webapp.columns import utcnow
from webapp.errors import UserError
from webapp.extensions import db
from webapp.http import Unreachable, fetch
from webapp.images import load_image
from webapp.lifecycle import Status, claim, transition
from webapp.quotas.storage import check_storage
from webapp.readable import shortened
from webapp.timeline.record import record
from webapp.tracked_jobs import enqueue_tracked, tracked_job_waiting

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
        raise UserError(_("The manifest has no sequence of canvases."))
    pages = []
    for index, canvas in enumerate(sequences[0].get("canvases") or [], start=1):
        images = canvas.get("images") if isinstance(canvas, dict) else None
        if not isinstance(images, list) or not images or not isinstance(images[0], dict):
            raise UserError(_("Canvas %(index)s of the manifest has no image.", index=index))
        url = _image_url(images[0].get("resource"), v3=False)
        if url is None:
            raise UserError(
                _("Canvas %(index)s of the manifest has no usable image URL.", index=index)
            )
        pages.append(ManifestPage(_label(canvas.get("label")) or f"p. {index}", url))
    return pages


def _v3_pages(manifest: dict[str, Any]) -> list[ManifestPage]:
    pages = []
    for index, canvas in enumerate(manifest.get("items") or [], start=1):
        try:
            body = canvas["items"][0]["items"][0]["body"]
        except (KeyError, IndexError, TypeError):
            raise UserError(
                _("Canvas %(index)s of the manifest has no painted image.", index=index)
            ) from None
        if isinstance(body, list):
            body = body[0] if body else None
        url = _image_url(body, v3=True)
        if url is None:
            raise UserError(
                _("Canvas %(index)s of the manifest has no usable image URL.", index=index)
            )
        pages.append(ManifestPage(_label(canvas.get("label")) or f"p. {index}", url))
    return pages


def parse_manifest(manifest: Any) -> tuple[str, list[ManifestPage]]:
    """The label and pages of a Presentation 2 or 3 manifest, or a UserError saying why not."""
    if not isinstance(manifest, dict):
        raise UserError(_("The document is not a IIIF manifest (not a JSON object)."))
    kind = manifest.get("@type") or manifest.get("type")
    if kind is None:
        raise UserError(_("The document is not a IIIF manifest: it has no @type or type."))
    if kind not in {"sc:Manifest", "Manifest"}:
        # Nothing of what answered is quoted: the URL may be anyone's (DESIGN 8).
        raise UserError(_("The document is not a IIIF manifest: its type is not Manifest."))
    pages = _v3_pages(manifest) if kind == "Manifest" else _v2_pages(manifest)
    if not pages:
        raise UserError(_("The manifest has no pages."))
    if len(pages) > MAX_PAGES:
        raise UserError(
            _(
                "The manifest has %(pages)s pages; the limit is %(MAX_PAGES)s.",
                pages=len(pages),
                MAX_PAGES=MAX_PAGES,
            )
        )
    return _label(manifest.get("label")), pages


def fetch_manifest(url: str) -> tuple[str, list[ManifestPage]]:
    body, _type = fetch(
        url, max_bytes=MAX_MANIFEST_BYTES, timeout=current_app.config["IMPORT_TIMEOUT"]
    )
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(_("The URL does not return JSON; is it a IIIF manifest URL?")) from exc
    return parse_manifest(data)


def start_import(witness: Witness, url: str, user: User, label: str = "") -> Digitization:
    """Check the manifest, then record the digitization and queue the copy of its images."""
    digitization = record_import(witness, url, user, label)
    enqueue_import(digitization.id)
    return digitization


def record_import(witness: Witness, url: str, user: User, label: str = "") -> Digitization:
    """Check the manifest, then record the digitization whose images are to be copied."""
    check_storage(user)
    manifest_label, pages = fetch_manifest(url)
    digitization = Digitization(
        witness=witness,
        source="man",
        manifest_url=url.strip(),
        label=label.strip() or shortened(manifest_label, 300),
        status=Status.PENDING,
        pages_total=len(pages),
        source_pages=[[p.label, p.image_url] for p in pages],
        created_by_id=user.id,
    )
    db.session.add(digitization)
    record("catalog.import", witness, actor=user, details={"manifest_url": url.strip()})
    db.session.commit()
    return digitization


def enqueue_import(digitization_id: int, delay: float = 0) -> None:
    pages = db.session.scalar(
        select(Digitization.pages_total).where(Digitization.id == digitization_id)
    )
    enqueue_tracked(
        f"import:{digitization_id}",
        copy_manifest_images,
        digitization_id,
        delay=delay,
        job_timeout=max(600, 30 * (pages or 0)),
    )


def import_queued(digitization_id: int) -> bool:
    return tracked_job_waiting(f"import:{digitization_id}")


def dispatch_imports() -> int:
    """The clock's part: queue again every import whose job is gone or whose worker died."""
    config = current_app.config
    now = utcnow()
    lease = now - timedelta(seconds=config["LAUNCH_LEASE_SECONDS"])
    grace = now - timedelta(seconds=config["DISPATCH_GRACE_SECONDS"])
    unfinished = db.session.execute(
        select(Digitization.id, Digitization.claimed_at).where(
            Digitization.status.in_([Status.PENDING, Status.RETRYING, Status.IN_PROGRESS]),
            or_(Digitization.claimed_at < lease, Digitization.updated_at < grace),
        )
    ).all()
    count = 0
    for digitization_id, claimed_at in unfinished:
        if claimed_at is not None and claimed_at >= lease:
            continue  # a live worker copies it
        if claimed_at is None and import_queued(digitization_id):
            continue  # its job waits in the queue or for its retry delay
        enqueue_import(digitization_id)
        count += 1
    return count


def _cancelled(digitization_id: int) -> bool:
    status = db.session.scalar(
        select(Digitization.status).where(Digitization.id == digitization_id)
    )
    return status == Status.CANCELLED


def _copy_page(digitization: Digitization, order: int, label: str, url: str) -> None:
    uploaded = storage.incoming_path(url)
    if uploaded is not None:
        # An upload was counted against its adder's storage quota whole, when received.
        image = load_image(uploaded, label)
        db.session.add(Page.stored(digitization.id, order, image, label))
        return
    adder = db.session.get(User, digitization.created_by_id) if digitization.created_by_id else None
    if adder is not None:
        check_storage(adder)
    image = fetch_image(url, f"Page {order} ({url})")
    db.session.add(Page.stored(digitization.id, order, image, label, source_url=url))


def fetch_image(url: str, name: str) -> Image.Image:
    """A page image from outside, under the outbound policy and the size limits."""
    max_bytes = current_app.config["MAX_IMAGE_MB"] * 1_000_000
    body, _type = fetch(url, max_bytes=max_bytes, timeout=current_app.config["IMPORT_TIMEOUT"])
    return load_image(body, name)


def _forget_uploads(digitization: Digitization) -> None:
    """An ended copy keeps no uploaded file: its pages are stored, or it failed."""
    for _label, source in digitization.source_pages:
        uploaded = storage.incoming_path(source)
        if uploaded is not None:
            uploaded.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                uploaded.parent.rmdir()


def copy_manifest_images(
    digitization_id: int, going_on: Callable[[int], bool] | None = None
) -> None:
    """RQ job: copy every page image into our storage, recording progress as it goes.

    A page that fails is that page's error and the rest are kept. A server that is away is
    tried again later (a new job, through RQ's scheduler) a few times before its page fails.
    A cancel is seen between two pages; a job cut short is resumed where it stopped.

    Run by a task instead (`going_on`), the copy tells it how many pages are done before
    each page, and stops (cancelled) when it answers no; a server away fails its page at
    once, the task being what is tried again.
    """
    unfinished = [Status.PENDING, Status.RETRYING, Status.IN_PROGRESS]
    if not claim(
        Digitization, digitization_id, unfinished, current_app.config["LAUNCH_LEASE_SECONDS"]
    ):
        return
    digitization = db.session.get(Digitization, digitization_id)
    assert digitization is not None
    transition(digitization, Status.IN_PROGRESS, f"Copying {digitization.pages_total} images.")
    done = {page.order for page in digitization.pages}
    try:
        for order, (label, url) in enumerate(digitization.source_pages, start=1):
            if order in done or str(order) in digitization.page_errors:
                continue
            if _cancelled(digitization_id):
                _forget_uploads(digitization)
                return
            if going_on is not None and not going_on(order - 1):
                transition(digitization, Status.CANCELLED, "Cancelled with the task importing it.")
                _forget_uploads(digitization)
                return
            try:
                _copy_page(digitization, order, label, url)
            except Unreachable as exc:
                if going_on is None and _retry_later(digitization, str(exc)):
                    return
                digitization.page_errors = {**digitization.page_errors, str(order): str(exc)}
            except UserError as exc:
                digitization.page_errors = {**digitization.page_errors, str(order): str(exc)}
            else:
                digitization.pages_done += 1
            digitization.claimed_at = utcnow()  # the lease renewed: this worker is alive
            digitization.touch()
            db.session.commit()
    except Exception:
        log.exception("import of digitization %s failed", digitization_id)
        db.session.rollback()
        transition(
            digitization,
            Status.ERROR,
            error="The import failed unexpectedly; the error has been logged.",
        )
        _forget_uploads(digitization)
        raise
    _conclude(digitization)


def _retry_later(digitization: Digitization, reason: str) -> bool:
    """Queue the rest of the import for later, unless it has been tried enough."""
    delays = current_app.config["IMPORT_RETRY_DELAYS"]
    if digitization.attempts >= len(delays):
        return False
    delay = float(delays[digitization.attempts])
    digitization.attempts += 1
    digitization.message = f"{reason} Trying again in {delay:g} s."
    digitization.claimed_at = None
    digitization.touch()
    db.session.commit()
    enqueue_import(digitization.id, delay)
    return True


def _conclude(digitization: Digitization) -> None:
    _forget_uploads(digitization)
    errors = digitization.page_errors
    if digitization.pages_done == 0 and errors:
        first = next(iter(errors.values()))
        transition(digitization, Status.ERROR, error=f"No image could be copied. {first}")
        return
    transition(
        digitization,
        Status.SUCCESS,
        f"{digitization.pages_done} of {digitization.pages_total} images copied"
        + (f", {len(errors)} failed." if errors else "."),
        values={"claimed_at": None},
    )


def cancel_import(digitization: Digitization, by: User) -> None:
    if digitization.state.is_terminal:
        raise UserError(
            _("This import has already ended (%(label)s).", label=digitization.state.label)
        )
    if not transition(digitization, Status.CANCELLED, f"Cancelled by {by.display_name}."):
        raise UserError(_("This import ended before it could be cancelled."))
    _forget_uploads(digitization)
