"""Regions as people look at them: pages with their boxes, a page of pages at a time, and as a
CSV table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Response
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from webapp.catalog.models import Digitization, Page, Witness
from webapp.catalog.names import name_of
from webapp.exports import csv_download
from webapp.extensions import db
from webapp.iiif.links import image_url
from webapp.lifecycle import Status
from webapp.pagination import paginate
from webapp.task_modules.regions.keys import share_key
from webapp.task_modules.regions.models import Region, RegionSet
from webapp.treatments.models import Treatment

PAGES_PER_VIEW = 12


def viewer_context(treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
    """The pages where the treatment found regions, and the regions to draw on them: its own,
    or (`show=all`) those of every successful regions treatment the user may see."""
    show_all = args.get("show") == "all"
    found_on = select(Region.page_id).join(RegionSet).where(RegionSet.treatment_id == treatment.id)
    pages = paginate(
        select(Page).where(Page.id.in_(found_on)).order_by(Page.digitization_id, Page.order),
        PAGES_PER_VIEW,
    )
    stmt = (
        select(Region)
        .join(RegionSet)
        .where(Region.page_id.in_([page.id for page in pages.items]))
        .order_by(Region.confidence.desc())
    )
    if show_all:
        stmt = stmt.join(Treatment, Treatment.id == RegionSet.treatment_id).where(
            Treatment.task_type == "regions", Treatment.status == Status.SUCCESS
        )
        if not current_user.is_admin:
            stmt = stmt.where(Treatment.owner_id == current_user.id)
    else:
        stmt = stmt.where(RegionSet.treatment_id == treatment.id)
    by_page: dict[int, list[Region]] = defaultdict(list)
    for region in db.session.scalars(stmt):
        by_page[region.page_id].append(region)
    region_sets = db.session.scalars(
        select(RegionSet).where(RegionSet.treatment_id == treatment.id).order_by(RegionSet.id)
    )
    return {
        "pages": pages,
        "names": {page.id: name_of(page) for page in pages.items},
        "by_page": by_page,
        "show": "all" if show_all else "this",
        "region_sets": list(region_sets),
        "share_key": share_key,
    }


def regions_csv(treatment: Treatment) -> Response:
    """One row per region; the columns people read (witness, title, page label, the crop's
    IIIF image) come after the ones scripts already read by position."""
    regions = db.session.scalars(
        select(Region)
        .join(RegionSet)
        .where(RegionSet.treatment_id == treatment.id)
        .order_by(RegionSet.id, Region.page_id, Region.y, Region.x)
        .options(
            selectinload(Region.region_set),
            selectinload(Region.page)
            .selectinload(Page.digitization)
            .selectinload(Digitization.witness)
            .selectinload(Witness.works),
        )
    )

    def row(region: Region) -> list[Any]:
        name = name_of(region.page)
        box = f"{region.x},{region.y},{region.w},{region.h}"
        return [
            region.region_set.ref,
            region.page.ref,
            region.crop_id,
            region.x,
            region.y,
            region.w,
            region.h,
            region.confidence,
            region.label,
            region.model,
            name.shelfmark,
            name.title,
            name.page,
            image_url(region.page.ref, box, external=True),
        ]

    return csv_download(
        f"regions-{treatment.id}.csv",
        [
            *("region_set", "page", "crop_id", "x", "y", "w", "h", "confidence", "label", "model"),
            *("witness", "title", "page_label", "image_url"),
        ],
        (row(region) for region in regions),
    )
