"""Refs name documents for the processing API: wit3, wit3_man186, wit3_man186_anno189."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(
    r"wit(?P<witness>\d+)(?:_(?P<source>man|img|pdf)(?P<digitization>\d+))?"
    r"(?:_anno(?P<anno>\d+))?"
)
# Any name that starts with a digitization's ref: a region set, a page, a crop.
_NAMED = re.compile(
    r"wit(?P<witness>\d{1,18})(?:_(?:man|img|pdf)(?P<digitization>\d{1,18})(?:_\S*)?)?"
)
_CROP = re.compile(r"(?P<page>.+)_(?P<box>\d+,\d+,\d+,\d+)")
_PAGE = re.compile(r"(?P<digitization>wit\d+_(?:man|img|pdf)\d+)_(?P<order>\d{4,})")


@dataclass(frozen=True)
class Ref:
    witness_id: int
    source: str | None = None
    digitization_id: int | None = None
    anno_id: int | None = None


def parse_ref(text: str) -> Ref | None:
    """The parts of a ref, or None when the text is not one (an annotation needs a digitization)."""
    match = _REF.fullmatch(text)
    if match is None or (match["anno"] and not match["digitization"]):
        return None
    return Ref(
        witness_id=int(match["witness"]),
        source=match["source"],
        digitization_id=int(match["digitization"]) if match["digitization"] else None,
        anno_id=int(match["anno"]) if match["anno"] else None,
    )


def parse_page_ref(text: str) -> tuple[Ref, int] | None:
    """A page id `<digitization ref>_<NNNN>` as its digitization ref and 1-based order."""
    match = _PAGE.fullmatch(text)
    if match is None:
        return None
    ref = parse_ref(match["digitization"])
    return (ref, int(match["order"])) if ref else None


def named_documents(text: str) -> tuple[int, int | None] | None:
    """The witness and digitization ids a name of any kind starts with (`wit3`, `wit3_img3`,
    `wit3_img3_anno5`, the page `wit3_img3_0008`, the crop `wit3_img3_0008_313,485,245,245`),
    if the text is one."""
    match = _NAMED.fullmatch(text.strip())
    if match is None:
        return None
    digitization = match["digitization"]
    return int(match["witness"]), int(digitization) if digitization else None


def parse_crop_id(text: str) -> tuple[str, str] | None:
    """A crop id `<page ref>_<x>,<y>,<w>,<h>` as its page ref and box, or None."""
    match = _CROP.fullmatch(text)
    return (match["page"], match["box"]) if match else None
