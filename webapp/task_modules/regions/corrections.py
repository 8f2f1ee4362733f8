"""The regions as corrected: the machine's output with a researcher's corrections applied. What
the viewers, the exports, the annotation manifests and later treatments read goes through
`corrected_regions`, so that a correction shows everywhere at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp.catalog.models import Digitization, Page, Witness
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.task_modules.regions.models import Region, RegionCorrection, RegionSet
from webapp.treatments.models import Treatment
from webapp.urls import external_url

LABEL_LENGTH = 100


@dataclass(frozen=True)
class Box:
    """One region as shown: `key` is `r<id>` for a machine region, `c<id>` for one drawn."""

    key: str
    region_set: RegionSet
    page: Page
    x: int
    y: int
    w: int
    h: int
    label: str
    confidence: float | None
    model: str
    # None for the machine's own box, else "adjusted" or "drawn".
    correction: str | None

    @property
    def page_id(self) -> int:
        return self.page.id

    @property
    def box(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"

    @property
    def crop_id(self) -> str:
        return f"{self.page.ref}_{self.box}"

    @property
    def image_url(self) -> str:
        """The crop from the IIIF service, at APP_URL: what the processing API and scripts
        read."""
        return external_url(
            "iiif.image",
            page_ref=self.page.ref,
            region=self.box,
            size="max",
            rotation="0",
            quality="default",
            fmt="jpg",
        )


def _machine(region: Region, correction: RegionCorrection | None) -> Box:
    """A machine region, with the box and label of its correction if it has one."""
    return _box(
        f"r{region.id}",
        region.region_set,
        region.page,
        correction or region,
        region.confidence,
        region.model,
        N_("adjusted") if correction else None,
    )


def _box(
    key: str,
    region_set: RegionSet,
    page: Page,
    shown: Region | RegionCorrection,
    confidence: float | None,
    model: str,
    correction: str | None = None,
) -> Box:
    """One region as shown, its box and label from `shown`."""
    return Box(
        key=key,
        region_set=region_set,
        page=page,
        x=shown.x,
        y=shown.y,
        w=shown.w,
        h=shown.h,
        label=shown.label,
        confidence=confidence,
        model=model,
        correction=correction,
    )


def corrected_regions(
    region_sets: Iterable[RegionSet], page_ids: Iterable[int] | None = None
) -> list[Box]:
    """The regions of these sets (on these pages, if given) as corrected, page by page, top to
    bottom."""
    sets = {region_set.id: region_set for region_set in region_sets}
    if not sets:
        return []
    regions = select(Region).where(Region.region_set_id.in_(sets))
    corrections = select(RegionCorrection).where(RegionCorrection.region_set_id.in_(sets))
    if page_ids is not None:
        pages = list(page_ids)
        regions = regions.where(Region.page_id.in_(pages))
        corrections = corrections.where(RegionCorrection.page_id.in_(pages))
    # Names are read from the page's witness and works: loaded once for all the boxes.
    named = (Page.digitization, Digitization.witness, Witness.works)
    by_region: dict[int, RegionCorrection] = {}
    boxes = []
    for made in db.session.scalars(
        corrections.options(selectinload(RegionCorrection.page, *named))
    ):
        if made.region_id is None:
            boxes.append(
                _box(
                    f"c{made.id}", sets[made.region_set_id], made.page, made, None, "", N_("drawn")
                )
            )
        else:
            by_region[made.region_id] = made
    for region in db.session.scalars(regions.options(selectinload(Region.page, *named))):
        correction = by_region.get(region.id)
        if not (correction and correction.deleted):
            boxes.append(_machine(region, correction))
    return sorted(boxes, key=lambda b: (b.page.digitization_id, b.page.order, b.y, b.x, b.key))


def treatment_region_sets(treatment: Treatment) -> list[RegionSet]:
    """A treatment's region sets, its retries' included."""
    return list(
        db.session.scalars(
            select(RegionSet)
            .where(RegionSet.treatment_id.in_(treatment.result_ids))
            .order_by(RegionSet.id)
        )
    )


def may_correct(user: Any, region_set: RegionSet) -> bool:
    """Its treatment's owner and administrators correct a region set; others who may see it
    read it."""
    treatment = db.session.get(Treatment, region_set.treatment_id)
    return bool(user.is_admin or (treatment is not None and treatment.owner_id == user.id))


def _checked_box(page: Page, values: dict[str, Any]) -> tuple[int, int, int, int, str]:
    """A box inside the page, in whole pixels, and its label; a clear error otherwise."""
    numbers = []
    for name in ("x", "y", "w", "h"):
        text = str(values.get(name, "")).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise UserError(_("%(name)s must be a whole number of pixels.", name=name))
        numbers.append(int(text))
    x, y, w, h = numbers
    if w < 1 or h < 1:
        raise UserError(_("A region is at least one pixel wide and high."))
    if x + w > page.width or y + h > page.height:
        raise UserError(
            _(
                "The region must lie inside the page (%(width)s by %(height)s pixels).",
                width=page.width,
                height=page.height,
            )
        )
    label = str(values.get("label", "")).strip()
    if len(label) > LABEL_LENGTH:
        raise UserError(
            _("A label has at most %(LABEL_LENGTH)s characters.", LABEL_LENGTH=LABEL_LENGTH)
        )
    return x, y, w, h, label


def _page_of(region_set: RegionSet, order: Any) -> Page:
    page = next((p for p in region_set.digitization.pages if str(p.order) == str(order)), None)
    if page is None:
        raise UserError(_("That page is not one of this digitization's."))
    return page


def _target(region_set: RegionSet, key: str) -> Region | RegionCorrection:
    """The machine region, or the drawn region, that `key` names."""
    kind, number = key[:1], key[1:]
    if kind not in ("r", "c") or not (number.isascii() and number.isdigit() and len(number) < 19):
        raise UserError(_("No such region in this set."))
    if kind == "r":
        region = db.session.get(Region, int(number))
        if region is None or region.region_set_id != region_set.id:
            raise UserError(_("No such region in this set."))
        return region
    drawn = db.session.get(RegionCorrection, int(number))
    if drawn is None or drawn.region_set_id != region_set.id or drawn.region_id is not None:
        raise UserError(_("No such region in this set."))
    return drawn


def draw(region_set: RegionSet, user: Any, order: Any, values: dict[str, Any]) -> None:
    """Add a region the machine missed."""
    page = _page_of(region_set, order)
    x, y, w, h, label = _checked_box(page, values)
    db.session.add(
        RegionCorrection(
            region_set_id=region_set.id,
            page_id=page.id,
            x=x,
            y=y,
            w=w,
            h=h,
            label=label,
            author_id=user.id,
        )
    )
    db.session.commit()


def _correct(region_set: RegionSet, region: Region, **changes: Any) -> None:
    """Store the correction of a machine region: its first one, or a change of it."""
    mine = select(RegionCorrection).where(RegionCorrection.region_id == region.id)
    correction = db.session.scalar(mine)
    if correction is None:
        db.session.add(
            RegionCorrection(
                region_set_id=region_set.id, region_id=region.id, page_id=region.page_id, **changes
            )
        )
        try:
            db.session.commit()
            return
        except IntegrityError:
            # Two corrections of the same region at the same moment (two tabs, two editors):
            # the first is stored, and this one changes it, as it would a moment later.
            db.session.rollback()
            correction = db.session.scalars(mine).one()
    for name, value in changes.items():
        setattr(correction, name, value)
    db.session.commit()


def adjust(region_set: RegionSet, user: Any, key: str, values: dict[str, Any]) -> None:
    """Give a region a new box (and label)."""
    target = _target(region_set, key)
    x, y, w, h, label = _checked_box(target.page, values)
    changes = {"x": x, "y": y, "w": w, "h": h, "label": label, "author_id": user.id}
    if isinstance(target, Region):
        _correct(region_set, target, deleted=False, **changes)
        return
    for name, value in changes.items():
        setattr(target, name, value)
    db.session.commit()


def remove(region_set: RegionSet, user: Any, key: str) -> None:
    """Delete a false region: a machine region is marked deleted, a drawn one goes."""
    target = _target(region_set, key)
    if isinstance(target, Region):
        _correct(region_set, target, deleted=True, author_id=user.id)
        return
    db.session.delete(target)
    db.session.commit()


def reset(region_set: RegionSet, page_id: int | None = None) -> int:
    """Back to the machine's output, for the whole set or one page: how many corrections
    were undone."""
    stmt = delete(RegionCorrection).where(RegionCorrection.region_set_id == region_set.id)
    if page_id is not None:
        stmt = stmt.where(RegionCorrection.page_id == page_id)
    undone = cast(CursorResult[Any], db.session.execute(stmt)).rowcount
    db.session.commit()
    return undone


def correction_count(region_sets: Iterable[RegionSet]) -> int:
    ids = [region_set.id for region_set in region_sets]
    if not ids:
        return 0
    count = db.session.scalar(
        select(func.count(RegionCorrection.id)).where(RegionCorrection.region_set_id.in_(ids))
    )
    return count or 0
