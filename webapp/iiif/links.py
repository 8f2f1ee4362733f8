"""Links to images served by the app's IIIF Image API, for pages, crops and thumbnails."""

from __future__ import annotations

from flask import url_for

from webapp.catalog.refs import parse_crop_id


def image_url(
    page_ref: str, region: str = "full", size: str = "max", external: bool = False
) -> str:
    return url_for(
        "iiif.image",
        page_ref=page_ref,
        region=region,
        size=size,
        rotation="0",
        quality="default",
        fmt="jpg",
        _external=external,
    )


def fitting(size: str, width: int, height: int) -> str:
    """`w,` or `,h` as asked, or `max` when that would enlarge the image (which IIIF level 1
    servers, ours included, refuse)."""
    w_text, _, h_text = size.partition(",")
    too_wide = w_text.isdigit() and int(w_text) >= width
    too_high = h_text.isdigit() and int(h_text) >= height
    return "max" if too_wide or too_high else size


def crop_url(crop_id: str, size: str = "max", external: bool = False) -> str | None:
    """The image of a crop named `<page ref>_<x>,<y>,<w>,<h>` (DESIGN 6), or None."""
    parsed = parse_crop_id(crop_id)
    if parsed is None:
        return None
    page_ref, box = parsed
    _, _, w, h = (int(n) for n in box.split(","))
    return image_url(page_ref, box, fitting(size, w, h), external)
