"""Regions as people look at them: pages with their boxes, a page of pages at a time, and as a
CSV table."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Response
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.catalog.models import Page
from webapp.catalog.names import document_name, name_of
from webapp.exports import csv_download
from webapp.extensions import db
from webapp.lifecycle import Status
from webapp.pagination import paginate
from webapp.task_modules.regions.corrections import (
    Box,
    corrected_regions,
    correction_count,
    may_correct,
    treatment_region_sets,
)
from webapp.task_modules.regions.keys import share_key
from webapp.task_modules.regions.models import Region, RegionCorrection, RegionSet
from webapp.treatments.models import Treatment

PAGES_PER_VIEW = 12


def viewer_context(treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
    """The pages where the treatment found or a researcher drew regions, and the regions to
    draw on them as corrected: its own, or (`show=all`) those of every successful regions
    treatment the user may see."""
    show_all = args.get("show") == "all"
    region_sets = treatment_region_sets(treatment)
    ids = [rs.id for rs in region_sets]
    found_on = select(Region.page_id).where(Region.region_set_id.in_(ids))
    drawn_on = select(RegionCorrection.page_id).where(RegionCorrection.region_set_id.in_(ids))
    pages = paginate(
        select(Page)
        .where(Page.id.in_(found_on.union(drawn_on)))
        .order_by(Page.digitization_id, Page.order),
        PAGES_PER_VIEW,
    )
    drawn = region_sets
    if show_all:
        others = (
            select(RegionSet)
            .join(Treatment, Treatment.id == RegionSet.treatment_id)
            .where(
                Treatment.task_type == "regions",
                Treatment.status == Status.SUCCESS,
                RegionSet.digitization_id.in_({page.digitization_id for page in pages.items}),
            )
        )
        if not current_user.is_admin:
            others = others.where(Treatment.owner_id == current_user.id)
        drawn = list({rs.id: rs for rs in [*region_sets, *db.session.scalars(others)]}.values())
    by_page: dict[int, list[Box]] = defaultdict(list)
    for box in corrected_regions(drawn, [page.id for page in pages.items]):
        by_page[box.page_id].append(box)
    return {
        "pages": pages,
        "names": {page.id: name_of(page) for page in pages.items},
        "by_page": by_page,
        "show": "all" if show_all else "this",
        "region_sets": region_sets,
        "sets_by_digitization": {rs.digitization_id: rs.ref for rs in region_sets},
        "correctable": all(may_correct(current_user, rs) for rs in region_sets),
        "corrections": correction_count(region_sets),
        "document_name": document_name,
        "share_key": share_key,
    }


def regions_csv(treatment: Treatment) -> Response:
    """One row per region as corrected; the columns people read (witness, title, page label,
    the crop's IIIF image) and whether a researcher corrected it come after the ones scripts
    already read by position."""
    boxes = corrected_regions(treatment_region_sets(treatment))

    def row(box: Box) -> list[Any]:
        name = name_of(box.page)
        return [
            box.region_set.ref,
            box.page.ref,
            box.crop_id,
            box.x,
            box.y,
            box.w,
            box.h,
            "" if box.confidence is None else box.confidence,
            box.label,
            box.model,
            name.shelfmark,
            name.title,
            name.page,
            box.image_url,
            box.correction or "",
        ]

    return csv_download(
        f"regions-{treatment.id}.csv",
        [
            *("region_set", "page", "crop_id", "x", "y", "w", "h", "confidence", "label", "model"),
            *("witness", "title", "page_label", "image_url", "correction"),
        ],
        (row(box) for box in boxes),
    )
