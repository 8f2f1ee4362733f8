"""New digitizations from uploaded page images. In the request, each file is streamed to disk
and its header read, so a file that is not an image, or too large, refuses the upload before
anything is kept; the images are then decoded one at a time by the same job that copies an
import's pages."""

from __future__ import annotations

import shutil

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.iiif_import import enqueue_import
from webapp.catalog.models import Digitization, Witness
from webapp.errors import UserError
from webapp.extensions import db
from webapp.images import probe_image
from webapp.lifecycle import Status
from webapp.quotas.storage import check_storage
from webapp.timeline.record import record

CHUNK = 1024 * 1024


def _stream_to_disk(upload: FileStorage, path: str, max_bytes: int) -> None:
    target = storage.absolute(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with target.open("wb") as out:
        while chunk := upload.stream.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise UserError(
                    _(
                        "%(filename)s is larger than %(mb)s MB.",
                        filename=upload.filename,
                        mb=max_bytes // 1_000_000,
                    )
                )
            out.write(chunk)


def create_from_uploads(
    witness: Witness, files: list[FileStorage], user: User, label: str, max_bytes: int
) -> Digitization:
    files = [f for f in files if f and f.filename]
    if not files:
        raise UserError(_("Choose at least one image file."))
    check_storage(user)
    digitization = Digitization(
        witness=witness,
        source="img",
        label=label.strip(),
        status=Status.PENDING,
        pages_total=len(files),
        created_by_id=user.id,
    )
    db.session.add(digitization)
    db.session.flush()
    # Named by the digitization, so that deleting it removes what it has not stored yet.
    folder = storage.incoming_folder(digitization.id)
    pages = []
    received = 0
    try:
        for order, upload in enumerate(files, start=1):
            name = upload.filename or f"file {order}"
            path = f"{folder}/{order:04d}"
            _stream_to_disk(upload, path, max_bytes)
            probe_image(storage.absolute(path), name)
            pages.append([name, storage.INCOMING_SCHEME + path])
            received += storage.absolute(path).stat().st_size
        check_storage(user, received)
    except BaseException:
        db.session.rollback()
        shutil.rmtree(storage.absolute(folder), ignore_errors=True)
        raise
    digitization.source_pages = pages
    record("catalog.import", witness, actor=user, details={"uploaded": len(pages)})
    db.session.commit()
    enqueue_import(digitization.id)
    return digitization
