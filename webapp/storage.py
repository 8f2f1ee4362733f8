"""Page images and derived files on disk, under STORAGE_DIR; paths are never user input."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import current_app
from PIL import Image

from webapp.pyramids import make_pyramid


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def absolute(relative: str) -> Path:
    return storage_root() / relative


def write_atomically(path: Path, data: bytes) -> None:
    """Readers never see half a file, even with several workers writing the same one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def page_file(digitization_id: int, order: int) -> str:
    return f"pages/{digitization_id}/{order:04d}.jpg"


def save_page_image(digitization_id: int, order: int, image: Image.Image) -> tuple[str, int, int]:
    """Store a page as JPEG; returns its relative path, width and height."""
    relative = page_file(digitization_id, order)
    save_image(relative, image)
    return relative, image.width, image.height


def save_image(relative: str, image: Image.Image) -> None:
    """Store an image as JPEG at that path, with its pyramid beside it."""
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
    os.close(fd)
    image.convert("RGB").save(tmp, "JPEG", quality=88)
    os.replace(tmp, path)
    make_pyramid(path)


# A page to copy that was uploaded, not named by a URL: `incoming:<path under STORAGE_DIR>`.
INCOMING_SCHEME = "incoming:"


def incoming_folder(digitization_id: int) -> str:
    return f"incoming/{digitization_id}"


def incoming_path(source: str) -> Path | None:
    """The file of an uploaded page waiting to be decoded, or None for a URL."""
    if not source.startswith(INCOMING_SCHEME):
        return None
    relative = source.removeprefix(INCOMING_SCHEME)
    if not relative.startswith("incoming/") or ".." in relative.split("/"):
        return None
    return absolute(relative)


def digitization_folders(digitization_id: int) -> list[str]:
    """Every folder that holds a digitization's files: its pages, renditions and uploads."""
    return [
        f"pages/{digitization_id}",
        f"cache/iiif/{digitization_id}",
        incoming_folder(digitization_id),
    ]


def delete_digitization_files(digitization_id: int) -> None:
    for folder in digitization_folders(digitization_id):
        shutil.rmtree(absolute(folder), ignore_errors=True)


def move(source: str, target: str) -> bool:
    """Rename a file or folder under the storage folder, if it is there and its new place is
    free (a move done already, or half done, is not done twice); whether it moved."""
    origin, destination = absolute(source), absolute(target)
    if not origin.exists() or destination.exists():
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(origin, destination)
    return True
