"""Regions as IIIF annotations on the digitization's canvases, so that any IIIF viewer shows
them over the pages: for Presentation 2, an `sc:AnnotationList` per canvas linked from a 2.1
manifest's `otherContent`; for Presentation 3, an AnnotationPage per canvas linked from a 3.0
manifest's `annotations`. They are as visible as the document set they were found on, or
through a share link."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request, url_for
from flask.typing import ResponseReturnValue

from webapp.catalog.models import Page
from webapp.i18n import N_
from webapp.iiif.manifests import (
    PRESENTATION_2,
    PRESENTATION_3,
    canvas_id,
    manifest_v2,
    manifest_v3,
)
from webapp.iiif.routes import allow_any_origin, presentation
from webapp.iiif.viewer import mirador_page
from webapp.security import public
from webapp.task_modules.regions import bp, readable_annotations
from webapp.task_modules.regions.corrections import Box, corrected_regions
from webapp.task_modules.regions.models import RegionSet


def _linked(endpoint: str, ref: str, page: Page) -> str:
    # A viewer opened by a share link follows the annotations with the same key.
    share = {"share": request.args["share"]} if request.args.get("share") else {}
    return url_for(endpoint, ref=ref, order=page.order, _external=True, **share)


def _text(box: Box) -> str:
    said = box.correction or f"{box.confidence:.2f}"
    return f"{box.label or 'region'} ({said})"


def _target(page: Page, box: Box) -> str:
    return f"{canvas_id(page)}#xywh={box.box}"


def _regions_on(ref: str, order: int) -> tuple[Page, list[Box]]:
    """The regions of one canvas, as corrected."""
    region_set: RegionSet = readable_annotations(ref)
    page = next((p for p in region_set.digitization.pages if p.order == order), None)
    if page is None:
        abort(404)
    return page, corrected_regions([region_set], [page.id])


@bp.get("/<ref>/manifest.json")
@public("IIIF_PUBLIC")
def manifest(ref: str) -> ResponseReturnValue:
    region_set = readable_annotations(ref)
    manifest_id = url_for("regions.manifest", ref=ref, _external=True)
    document = manifest_v2(
        region_set.digitization,
        manifest_id,
        lambda page: _linked("regions.annotation_list", ref, page),
    )
    return allow_any_origin(presentation(document, 2))


@bp.get("/<ref>/v3/manifest.json")
@public("IIIF_PUBLIC")
def manifest_3(ref: str) -> ResponseReturnValue:
    region_set = readable_annotations(ref)
    manifest_id = url_for("regions.manifest_3", ref=ref, _external=True)
    document = manifest_v3(
        region_set.digitization,
        manifest_id,
        lambda page: _linked("regions.annotation_page", ref, page),
    )
    return allow_any_origin(presentation(document, 3))


@bp.get("/<ref>/viewer")
def viewer(ref: str) -> Response:
    """The regions in Mirador, over the pages they were found on."""
    region_set = readable_annotations(ref)
    return mirador_page(
        region_set.digitization,
        url_for("regions.manifest_3", ref=ref, _external=True),
        url_for("treatments.results", treatment_id=region_set.treatment_id),
        N_("Regions"),
        annotations=True,
    )


@bp.get("/<ref>/lists/<int:order>.json")
@public("IIIF_PUBLIC")
def annotation_list(ref: str, order: int) -> ResponseReturnValue:
    """The regions on one canvas, as a Presentation 2 annotation list."""
    page, regions = _regions_on(ref, order)
    return allow_any_origin(presentation(annotation_list_document(ref, page, regions), 2))


def annotation_list_document(ref: str, page: Page, regions: list[Box]) -> dict[str, Any]:
    """The regions of set `ref` on one page, as a Presentation 2 annotation list."""
    list_url = _linked("regions.annotation_list", ref, page)
    resources: list[dict[str, Any]] = [
        {
            "@id": f"{list_url.split('?')[0]}#{region.key}",
            "@type": "oa:Annotation",
            "motivation": "oa:tagging",
            "resource": {"@type": "dctypes:Text", "format": "text/plain", "chars": _text(region)},
            "on": _target(page, region),
        }
        for region in regions
    ]
    return {
        "@context": PRESENTATION_2,
        "@id": list_url,
        "@type": "sc:AnnotationList",
        "resources": resources,
    }


@bp.get("/<ref>/annotations/<int:order>.json")
@public("IIIF_PUBLIC")
def annotation_page(ref: str, order: int) -> ResponseReturnValue:
    """The regions on one canvas, as a Presentation 3 annotation page."""
    page, regions = _regions_on(ref, order)
    page_url = _linked("regions.annotation_page", ref, page)
    items = [
        {
            "id": f"{page_url.split('?')[0]}#{region.key}",
            "type": "Annotation",
            "motivation": "tagging",
            "body": {"type": "TextualBody", "format": "text/plain", "value": _text(region)},
            "target": _target(page, region),
        }
        for region in regions
    ]
    document = {
        "@context": PRESENTATION_3,
        "id": page_url,
        "type": "AnnotationPage",
        "items": items,
    }
    return allow_any_origin(presentation(document, 3))
