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


def fitting(size: str, width: int, height: int) -> str:
    """`w,` or `,h` as asked, or `max` when that would enlarge the image (which IIIF level 1
    servers, ours included, refuse)."""
    w_text, _, h_text = size.partition(",")
    too_wide = w_text.isdigit() and int(w_text) >= width
    too_high = h_text.isdigit() and int(h_text) >= height
    return "max" if too_wide or too_high else size


def crop_url(crop_id: str, size: str = "max") -> str | None:
    """The image of a crop named `<page ref>_<x>,<y>,<w>,<h>` (DESIGN 6), or None."""
    match = _CROP.fullmatch(crop_id)
    if match is None:
        return None
    _, _, w, h = (int(n) for n in match["box"].split(","))
    return image_url(match["page"], match["box"], fitting(size, w, h))
