"""A tiled, pyramidal copy of each page (TIFF, JPEG-compressed 256-pixel tiles, each level half
the one before), made once beside the page's JPEG: a rendition then reads only the tiles of
the level it needs, instead of decoding the page down to the region it shows."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyvips


def pyramid_of(page_file: Path) -> Path:
    return page_file.with_suffix(".tif")


def make_pyramid(page_file: Path) -> Path:
    """Write the page's pyramid (atomically: readers never see half of one)."""
    target = pyramid_of(page_file)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".tif")
    os.close(fd)
    try:
        image = pyvips.Image.new_from_file(str(page_file), access="sequential")
        image.tiffsave(
            partial, tile=True, tile_width=256, tile_height=256, pyramid=True,
            compression="jpeg", Q=88,
        )  # fmt: skip
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def pyramid(page_file: Path) -> Path:
    """The page's pyramid, made now if it has none yet (a page stored before pyramids)."""
    target = pyramid_of(page_file)
    return target if target.is_file() else make_pyramid(page_file)
