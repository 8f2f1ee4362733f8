"""Read a regions result file, in our processor's clean form and the real AIKON API's looser one."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from webapp.errors import UserError

_FILE_NAME = re.compile(r"(?:.*/)?0*(\d+)\.[A-Za-z0-9]+")


@dataclass(frozen=True)
class FoundRegion:
    order: int
    x: int
    y: int
    w: int
    h: int
    confidence: float
    label: str


def _page_order(source: Any, doc_uid: str) -> int | None:
    """The 1-based page a result names: `<doc uid>_0009`, or AIKON's file name `0009.jpg`."""
    if not isinstance(source, str):
        return None
    prefix = f"{doc_uid}_"
    if source.startswith(prefix) and source[len(prefix) :].isdigit():
        return int(source[len(prefix) :])
    match = _FILE_NAME.fullmatch(source)
    return int(match[1]) if match else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _box(absolute: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(absolute, dict):
        return None
    x1, y1 = _number(absolute.get("x1")), _number(absolute.get("y1"))
    if x1 is None or y1 is None:
        return None
    width, height = _number(absolute.get("width")), _number(absolute.get("height"))
    x2, y2 = _number(absolute.get("x2")), _number(absolute.get("y2"))
    width = width if width is not None else (x2 - x1 if x2 is not None else None)
    height = height if height is not None else (y2 - y1 if y2 is not None else None)
    if width is None or height is None:
        return None
    return x1, y1, width, height


def parse_regions(content: bytes, doc_uid: str) -> tuple[list[FoundRegion], list[str]]:
    """The regions of a result file, and a readable error per page entry without regions data."""
    try:
        entries = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"The regions result for {doc_uid} is not JSON.") from exc
    if not isinstance(entries, list):
        raise UserError(f"The regions result for {doc_uid} is not a list of pages.")
    found: list[FoundRegion] = []
    skipped: list[str] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise UserError(f"The regions result for {doc_uid} has an entry that is not a page.")
        order = _page_order(entry.get("source"), doc_uid)
        crops = entry.get("crops")
        if order is None or not isinstance(crops, list):
            # AIKON leaves an entry with only doc_uid for a page it could not fetch.
            page = f"page {order}" if order is not None else f"the page of entry {index}"
            skipped.append(f"{page} could not be read by the processing API; it has no regions.")
            continue
        for crop in crops:
            box = _box(crop.get("absolute")) if isinstance(crop, dict) else None
            if box is None:
                raise UserError(f"A region on page {order} of {doc_uid} has no usable box.")
            x, y, w, h = (round(v) for v in box)
            if w <= 0 or h <= 0:
                continue
            confidence = _number(crop.get("confidence"))
            label = (
                crop.get("class", {}).get("label") if isinstance(crop.get("class"), dict) else None
            )
            found.append(
                FoundRegion(order, x, y, w, h, confidence or 0.0, str(label)[:100] if label else "")
            )
    return found, skipped
