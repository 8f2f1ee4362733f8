"""Regions as IIIF Web Annotations: an AnnotationPage per canvas, linked from a manifest of the
digitization, so that any IIIF viewer shows them over the pages. They are as visible as the
document set they were found on, or through a share link."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from webapp.catalog.models import Page
from webapp.iiif.manifests import build_manifest, canvas_id
from webapp.iiif.routes import allow_any_origin
from webapp.security import public
from webapp.task_modules.regions import bp, readable_annotations
from webapp.task_modules.regions.models import Region

WEB_ANNOTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"


def annotation_page_url(ref: str, page: Page) -> str:
    # A viewer opened by a share link follows the pages with the same key.
    share = {"share": request.args["share"]} if request.args.get("share") else {}
    return url_for("regions.annotation_page", ref=ref, order=page.order, _external=True, **share)


def annotation(page_url: str, page: Page, region: Region) -> dict[str, Any]:
    label = region.label or "region"
    return {
        "id": f"{page_url}#region{region.id}",
        "type": "Annotation",
        "motivation": "tagging",
        "body": {
            "type": "TextualBody",
            "format": "text/plain",
            "value": f"{label} ({region.confidence:.2f})",
        },
        "target": f"{canvas_id(page)}#xywh={region.x},{region.y},{region.w},{region.h}",
    }


@bp.get("/<ref>/manifest.json")
@public("IIIF_PUBLIC")
def manifest(ref: str) -> ResponseReturnValue:
    region_set = readable_annotations(ref)
    manifest_id = url_for("regions.manifest", ref=ref, _external=True)

    def links(page: Page) -> list[dict[str, Any]]:
        return [{"@id": annotation_page_url(ref, page), "@type": "AnnotationPage"}]

    return allow_any_origin(jsonify(build_manifest(region_set.digitization, manifest_id, links)))


@bp.get("/<ref>/annotations/<int:order>.json")
@public("IIIF_PUBLIC")
def annotation_page(ref: str, order: int) -> ResponseReturnValue:
    region_set = readable_annotations(ref)
    page = next((p for p in region_set.digitization.pages if p.order == order), None)
    if page is None:
        abort(404)
    page_url = annotation_page_url(ref, page)
    items = [annotation(page_url, page, r) for r in region_set.regions if r.page_id == page.id]
    return allow_any_origin(
        jsonify(
            {
                "@context": WEB_ANNOTATION_CONTEXT,
                "id": page_url,
                "type": "AnnotationPage",
                "items": items,
            }
        )
    )
