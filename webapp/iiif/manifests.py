"""IIIF Presentation 2 manifests for digitizations, pointing at our image service."""

from __future__ import annotations

from typing import Any

from flask import url_for

from webapp.catalog.models import Digitization, Page
from webapp.iiif.image_api import CONTEXT as IMAGE_CONTEXT
from webapp.iiif.image_api import PROFILE

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/2/context.json"


def image_service_url(page: Page) -> str:
    return url_for("iiif.image_base", page_ref=page.ref, _external=True)


def _canvas(manifest_id: str, page: Page) -> dict[str, Any]:
    canvas_id = f"{manifest_id.removesuffix('/manifest.json')}/canvas/c{page.order}"
    service = image_service_url(page)
    return {
        "@id": canvas_id,
        "@type": "sc:Canvas",
        "label": page.label or f"p. {page.order}",
        "width": page.width,
        "height": page.height,
        "images": [
            {
                "@id": f"{canvas_id}/annotation/painting",
                "@type": "oa:Annotation",
                "motivation": "sc:painting",
                "on": canvas_id,
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


def build_manifest(digitization: Digitization) -> dict[str, Any]:
    witness = digitization.witness
    manifest_id = url_for("iiif.manifest", ref=digitization.ref, _external=True)
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
                "canvases": [_canvas(manifest_id, page) for page in digitization.pages],
            }
        ],
    }
