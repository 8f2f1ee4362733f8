"""Refs name documents for the processing API: wit3, wit3_man186, wit3_man186_anno189."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(
    r"wit(?P<witness>\d+)(?:_(?P<source>man|img|pdf)(?P<digitization>\d+))?"
    r"(?:_anno(?P<anno>\d+))?"
)
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
