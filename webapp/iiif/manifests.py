"""IIIF Presentation 2 manifests for digitizations, pointing at our image service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from webapp.catalog.models import Digitization, Page
from webapp.iiif.image_api import CONTEXT as IMAGE_CONTEXT
from webapp.iiif.image_api import PROFILE

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/2/context.json"


def image_service_url(page: Page) -> str:
    return url_for("iiif.image_base", page_ref=page.ref, _external=True)


def canvas_id(page: Page) -> str:
    """The canvas of a page, the same in every manifest that shows it."""
    manifest_id = url_for("iiif.manifest", ref=page.digitization.ref, _external=True)
    return f"{manifest_id.removesuffix('/manifest.json')}/canvas/c{page.order}"


def _canvas(page: Page) -> dict[str, Any]:
    canvas = canvas_id(page)
    service = image_service_url(page)
    return {
        "@id": canvas,
        "@type": "sc:Canvas",
        "label": page.label or f"p. {page.order}",
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
    }


def build_manifest(
    digitization: Digitization,
    manifest_id: str | None = None,
    annotations: Callable[[Page], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The manifest of a digitization; `annotations` links annotation pages to its canvases
    (a manifest of regions found, under its own id)."""
    witness = digitization.witness
    manifest_id = manifest_id or url_for("iiif.manifest", ref=digitization.ref, _external=True)
    metadata = [{"label": "Witness", "value": witness.siglum}]
    metadata += [{"label": "Work", "value": work.label} for work in witness.works]
    if witness.series:
        metadata.append({"label": "Series", "value": witness.series.title})
    if witness.date:
        metadata.append({"label": "Date", "value": witness.date})
    return {
        "@context": PRESENTATION_CONTEXT,
        "@id": manifest_id,
        "@type": "sc:Manifest",
        "label": f"{witness.siglum} — {digitization.display_label}",
        "metadata": metadata,
        "attribution": "Scriptorium",
        "viewingDirection": "left-to-right",
        "sequences": [
            {
                "@id": manifest_id.replace("/manifest.json", "/sequence/normal"),
                "@type": "sc:Sequence",
                "canvases": [
                    _canvas(page) | ({"otherContent": annotations(page)} if annotations else {})
                    for page in digitization.pages
                ],
            }
        ],
    }
