"""New digitizations from uploaded page images: every file is checked before anything is kept."""

from __future__ import annotations

from werkzeug.datastructures import FileStorage

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Witness
from webapp.errors import UserError
from webapp.extensions import db
from webapp.images import load_image
from webapp.lifecycle import Status, transition


def create_from_uploads(
    witness: Witness, files: list[FileStorage], user: User, label: str, max_bytes: int
) -> Digitization:
    files = [f for f in files if f and f.filename]
    if not files:
        raise UserError("Choose at least one image file.")
    images = []
    for upload in files:
        data = upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise UserError(f"{upload.filename} is larger than {max_bytes // 1_000_000} MB.")
        images.append((upload.filename or "", load_image(data, upload.filename or "file")))
    digitization = Digitization(
        witness=witness,
        source="img",
        label=label.strip(),
        status=Status.PENDING,
        pages_total=len(images),
        pages_done=len(images),
        created_by_id=user.id,
    )
    db.session.add(digitization)
    db.session.flush()
    try:
        for order, (name, image) in enumerate(images, start=1):
            db.session.add(Page.stored(digitization.id, order, image, name))
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.delete_digitization_files(digitization.id)
        raise
    transition(digitization, Status.SUCCESS, f"{len(images)} images uploaded.")
    return digitization
