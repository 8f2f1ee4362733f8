"""Renditions of page images kept on disk, within IIIF_CACHE_MB: past it, the least recently
written go first."""

from __future__ import annotations

import time
from pathlib import Path

from flask import current_app

from webapp import storage
from webapp.iiif.image_api import Box

CACHE_FOLDER = "cache/iiif"
_last_check = 0.0


def rendition_path(digitization_id: int, order: int, box: Box, size: tuple[int, int]) -> Path:
    return storage.absolute(
        f"{CACHE_FOLDER}/{digitization_id}/{order}/"
        f"{box.x},{box.y},{box.w},{box.h}_{size[0]}x{size[1]}.jpg"
    )


def keep_within_bound() -> None:
    """After a write, at most every IIIF_CACHE_CHECK_SECONDS: remove the oldest renditions
    until the cache is within its bound again."""
    global _last_check
    now = time.monotonic()
    if now - _last_check < current_app.config["IIIF_CACHE_CHECK_SECONDS"]:
        return
    _last_check = now
    files = []
    for path in storage.absolute(CACHE_FOLDER).rglob("*.jpg"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    bound = current_app.config["IIIF_CACHE_MB"] * 1_000_000
    for _, size, path in sorted(files):
        if total <= bound:
            break
        path.unlink(missing_ok=True)
        total -= size
