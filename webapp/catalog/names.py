"""What people call a page or a crop: the witness's shelfmark and title and the page's own
label ("MS A, Tractatus de sphaera, f. 8r"), with the machine's ref beside it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.catalog.lookup import ref_matches
from webapp.catalog.models import Digitization, Page, Witness
from webapp.catalog.refs import parse_crop_id, parse_page_ref, parse_ref
from webapp.extensions import db


@dataclass(frozen=True)
class PageName:
    shelfmark: str
    title: str
    page: str
    ref: str

    @property
    def document(self) -> str:
        return f"{self.shelfmark}, {self.title}" if self.title else self.shelfmark

    def __str__(self) -> str:
        return f"{self.document}, {self.page}"


def page_label(page: Page) -> str:
    """The page's own label (from its manifest or its upload), else its position."""
    return page.label or f"p. {page.order}"


def witness_title(witness: Witness) -> str:
    """What a witness holds: its works' titles."""
    return "; ".join(work.title for work in witness.works)


def name_of(page: Page) -> PageName:
    witness = page.digitization.witness
    return PageName(witness.siglum, witness_title(witness), page_label(page), page.ref)


def document_name(digitization: Digitization) -> str:
    """A digitization as people call it: its witness, and its own label when it has one."""
    witness = digitization.witness
    title = witness_title(witness)
    name = f"{witness.siglum}, {title}" if title else witness.siglum
    return f"{name} ({digitization.label})" if digitization.label else name


def digitization_name(ref: str) -> str:
    """The name of the digitization a ref names, or the ref when it names none of ours."""
    parsed = parse_ref(ref)
    digitization = (
        db.session.get(Digitization, parsed.digitization_id)
        if parsed is not None and parsed.digitization_id is not None
        else None
    )
    return (
        document_name(digitization)
        if digitization and parsed and ref_matches(digitization, parsed)
        else ref
    )


def page_names(names: Iterable[str]) -> dict[str, PageName]:
    """The name of each page that these page refs or crop ids name, by the ref or id given;
    what names no page of ours is left out."""
    wanted: dict[str, tuple[int, int]] = {}
    refs = {}
    for name in names:
        crop = parse_crop_id(name)
        parsed = parse_page_ref(crop[0] if crop else name)
        if parsed is not None and parsed[0].digitization_id is not None:
            wanted[name] = (parsed[0].digitization_id, parsed[1])
            refs[parsed[0].digitization_id] = parsed[0]
    if not wanted:
        return {}
    pages = db.session.scalars(
        select(Page)
        .where(Page.digitization_id.in_({d for d, _ in wanted.values()}))
        .options(
            selectinload(Page.digitization)
            .selectinload(Digitization.witness)
            .selectinload(Witness.works)
        )
    )
    by_place = {
        (p.digitization_id, p.order): name_of(p)
        for p in pages
        if ref_matches(p.digitization, refs[p.digitization_id])
    }
    return {name: by_place[place] for name, place in wanted.items() if place in by_place}
