"""IIIF Presentation manifests of digitizations, in versions 2.1 and 3.0, pointing at our image
service. Both versions give a page the same canvas, so annotations made on one fit the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from webapp.catalog.models import Digitization, Page
from webapp.catalog.names import page_label
from webapp.iiif.image_api import CONTEXT as IMAGE_CONTEXT
from webapp.iiif.image_api import PROFILE

PRESENTATION_2 = "http://iiif.io/api/presentation/2/context.json"
PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
ATTRIBUTION = "Scriptorium"

# For a page: the URL of the annotations on its canvas, if it has any.
AnnotationLinks = Callable[[Page], str | None]


def image_service_url(page: Page) -> str:
    return url_for("iiif.image_base", page_ref=page.ref, _external=True)


def canvas_id(page: Page) -> str:
    """The canvas of a page, the same in every manifest that shows it."""
    manifest_id = url_for("iiif.manifest", ref=page.digitization.ref, _external=True)
    return f"{manifest_id.removesuffix('/manifest.json')}/canvas/c{page.order}"


def manifest_label(digitization: Digitization) -> str:
    return f"{digitization.witness.siglum} — {digitization.display_label}"


def _metadata(digitization: Digitization) -> list[tuple[str, str]]:
    witness = digitization.witness
    rows = [("Witness", witness.siglum)]
    rows += [("Work", work.label) for work in witness.works]
    if witness.series:
        rows.append(("Series", witness.series.title))
    if witness.date:
        rows.append(("Date", witness.date))
    rows.append(("Reference", digitization.ref))
    return rows


def manifest_v2(
    digitization: Digitization, manifest_id: str | None = None, lists: AnnotationLinks | None = None
) -> dict[str, Any]:
    """The Presentation 2.1 manifest; `lists` links an `sc:AnnotationList` to each canvas (a
    manifest of regions found, under its own id)."""
    manifest_id = manifest_id or url_for("iiif.manifest", ref=digitization.ref, _external=True)
    return {
        "@context": PRESENTATION_2,
        "@id": manifest_id,
        "@type": "sc:Manifest",
        "label": manifest_label(digitization),
        "metadata": [{"label": label, "value": value} for label, value in _metadata(digitization)],
        "attribution": ATTRIBUTION,
        "viewingDirection": "left-to-right",
        "sequences": [
            {
                "@id": f"{manifest_id.removesuffix('/manifest.json')}/sequence/normal",
                "@type": "sc:Sequence",
                "canvases": [_canvas_v2(page, lists) for page in digitization.pages],
            }
        ],
    }


def _canvas_v2(page: Page, lists: AnnotationLinks | None) -> dict[str, Any]:
    canvas = canvas_id(page)
    service = image_service_url(page)
    listed = lists(page) if lists else None
    return {
        "@id": canvas,
        "@type": "sc:Canvas",
        "label": page_label(page),
        "width": page.width,
        "height": page.height,
        "images": [
            {
                "@id": f"{canvas}/annotation/painting",
                "@type": "oa:Annotation",
                "motivation": "sc:painting",
                "on": canvas,
                "resource": {
                    "@id": f"{service}/full/full/0/default.jpg",
                    "@type": "dctypes:Image",
                    "format": "image/jpeg",
                    "width": page.width,
                    "height": page.height,
                    "service": {"@context": IMAGE_CONTEXT, "@id": service, "profile": PROFILE},
                },
            }
        ],
    } | ({"otherContent": [{"@id": listed, "@type": "sc:AnnotationList"}]} if listed else {})


def _language_map(text: str) -> dict[str, list[str]]:
    return {"none": [text]}


def manifest_v3(
    digitization: Digitization, manifest_id: str | None = None, pages: AnnotationLinks | None = None
) -> dict[str, Any]:
    """The Presentation 3.0 manifest; `pages` links an AnnotationPage to each canvas."""
    manifest_id = manifest_id or url_for("iiif.manifest_v3", ref=digitization.ref, _external=True)
    return {
        "@context": PRESENTATION_3,
        "id": manifest_id,
        "type": "Manifest",
        "label": _language_map(manifest_label(digitization)),
        "metadata": [
            {"label": _language_map(label), "value": _language_map(value)}
            for label, value in _metadata(digitization)
        ],
        "requiredStatement": {
            "label": _language_map("Attribution"),
            "value": _language_map(ATTRIBUTION),
        },
        "viewingDirection": "left-to-right",
        "items": [_canvas_v3(page, pages) for page in digitization.pages],
    }


def _canvas_v3(page: Page, pages: AnnotationLinks | None) -> dict[str, Any]:
    canvas = canvas_id(page)
    service = image_service_url(page)
    annotations = pages(page) if pages else None
    return {
        "id": canvas,
        "type": "Canvas",
        "label": _language_map(page_label(page)),
        "width": page.width,
        "height": page.height,
        "items": [
            {
                "id": f"{canvas}/page/painting",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{canvas}/annotation/painting",
                        "type": "Annotation",
                        "motivation": "painting",
                        "target": canvas,
                        "body": {
                            "id": f"{service}/full/full/0/default.jpg",
                            "type": "Image",
                            "format": "image/jpeg",
                            "width": page.width,
                            "height": page.height,
                            # An Image API 2 service, named as Presentation 3 names those.
                            "service": [
                                {"@id": service, "@type": "ImageService2", "profile": "level1"}
                            ],
                        },
                    }
                ],
            }
        ],
    } | ({"annotations": [{"id": annotations, "type": "AnnotationPage"}]} if annotations else {})
