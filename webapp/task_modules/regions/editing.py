"""Correcting a region set page by page: delete a false region, draw a missing one, adjust a
box, or go back to the machine's output. Only its treatment's owner and administrators
correct; whoever may see the set sees the corrections."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from webapp.catalog.models import Page
from webapp.catalog.names import document_name, name_of
from webapp.errors import UserError
from webapp.task_modules.regions import bp, corrections, readable_annotations
from webapp.task_modules.regions.models import RegionSet


def _correctable(ref: str) -> RegionSet:
    region_set = readable_annotations(ref)
    if not corrections.may_correct(current_user, region_set):
        abort(403, "Only the treatment's owner or an administrator may correct its regions.")
    return region_set


def _page(region_set: RegionSet, order: int) -> Page:
    page = next((p for p in region_set.digitization.pages if p.order == order), None)
    if page is None:
        abort(404)
    return page


def _editor(
    region_set: RegionSet, page: Page, error: str = "", drawn: Any = None
) -> tuple[str, int]:
    pages = region_set.digitization.pages
    index = pages.index(page)
    return render_template(
        "task_modules/regions_edit.html",
        region_set=region_set,
        page=page,
        name=name_of(page),
        document=document_name(region_set.digitization),
        boxes=corrections.corrected_regions([region_set], [page.id]),
        previous=pages[index - 1] if index > 0 else None,
        following=pages[index + 1] if index + 1 < len(pages) else None,
        error=error,
        drawn=drawn or {},
    ), 400 if error else 200


@bp.get("/<ref>/pages/<int:order>/edit")
def edit(ref: str, order: int) -> ResponseReturnValue:
    region_set = _correctable(ref)
    return _editor(region_set, _page(region_set, order))


@bp.post("/<ref>/pages/<int:order>/edit")
def correct(ref: str, order: int) -> ResponseReturnValue:
    """One correction: `action` is draw, adjust or delete; `region` names the region."""
    region_set = _correctable(ref)
    page = _page(region_set, order)
    action, key = request.form.get("action", ""), request.form.get("region", "")
    try:
        if action == "draw":
            corrections.draw(region_set, current_user, order, request.form)
            flash(_("The region was added."), "success")
        elif action == "adjust":
            corrections.adjust(region_set, current_user, key, request.form)
            flash(_("The region was adjusted."), "success")
        elif action == "delete":
            corrections.remove(region_set, current_user, key)
            flash(_("The region was deleted."), "success")
        else:
            raise UserError(_("Choose to draw, adjust or delete a region."))
    except UserError as exc:
        # Shown again with what was typed, so that nothing is lost.
        return _editor(region_set, page, str(exc), request.form)
    return redirect(url_for("regions.edit", ref=ref, order=order))


@bp.post("/<ref>/reset")
def reset(ref: str) -> ResponseReturnValue:
    """Undo the corrections of the set, or of one page (`page`: its order)."""
    region_set = _correctable(ref)
    order = request.form.get("page", type=int)
    page = _page(region_set, order) if order is not None else None
    undone = corrections.reset(region_set, page.id if page else None)
    flash(
        ngettext(
            "%(num)s correction undone: back to the machine's output.",
            "%(num)s corrections undone: back to the machine's output.",
            undone,
        ),
        "success",
    )
    if page is not None:
        return redirect(url_for("regions.edit", ref=ref, order=page.order))
    return redirect(url_for("treatments.results", treatment_id=region_set.treatment_id))
