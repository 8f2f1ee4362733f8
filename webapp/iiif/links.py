"""Links to images served by the app's IIIF Image API, for pages, crops and thumbnails."""

from __future__ import annotations

import re

from flask import url_for

_CROP = re.compile(r"(?P<page>.+)_(?P<box>\d+,\d+,\d+,\d+)")


def image_url(page_ref: str, region: str = "full", size: str = "max") -> str:
    return url_for(
        "iiif.image",
        page_ref=page_ref,
        region=region,
        size=size,
        rotation="0",
        quality="default",
        fmt="jpg",
    )


def crop_url(crop_id: str, size: str = "max") -> str | None:
    """The image of a crop named `<page ref>_<x>,<y>,<w>,<h>` (DESIGN 6), or None."""
    match = _CROP.fullmatch(crop_id)
    return image_url(match["page"], match["box"], size) if match else None
