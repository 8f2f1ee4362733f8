"""Every IIIF Presentation document the app serves, checked by the specification's own
libraries: `iiif-prezi` reads 2.1 (it refuses what the 2.1 model does not know), `iiif-prezi3`
reads 3.0, whose models must give back exactly what was served: nothing unknown dropped,
nothing coerced into shape."""

from __future__ import annotations

import json
from typing import Any

import iiif_prezi3
from iiif_prezi.loader import ManifestReader, load_document_local
from pyld import jsonld

from webapp.iiif.manifests import PRESENTATION_2, PRESENTATION_3


def _local_context(url: str, options: Any = None) -> dict[str, Any]:
    """iiif-prezi's own copy of a context, in the shape today's pyld asks of a loader (the
    hook iiif-prezi installs predates it): nothing is fetched."""
    document = json.loads(load_document_local(url)["document"])
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
        "contentType": "application/ld+json",
    }


jsonld.set_document_loader(_local_context)

V3_CLASSES = {"Manifest": iiif_prezi3.Manifest, "AnnotationPage": iiif_prezi3.AnnotationPage}


def assert_valid_presentation(document: dict[str, Any]) -> None:
    context = document.get("@context")
    if context == PRESENTATION_2:
        reader = ManifestReader(document, version="2.1")
        reader.read()
        assert reader.get_warnings() == [], reader.get_warnings()
    elif context == PRESENTATION_3:
        model = V3_CLASSES[document["type"]](**document)
        read = model.model_dump(exclude_unset=True, exclude_none=True, by_alias=True, mode="json")
        assert {"@context": PRESENTATION_3, **_unfilled(read, document)} == document
    else:
        raise AssertionError(f"not a Presentation 2 or 3 document: @context {context!r}")


def _unfilled(read: Any, served: Any) -> Any:
    """What the model read, without the empty values it filled in where the document has
    none (a referenced AnnotationPage gets `items: []`)."""
    if isinstance(read, dict) and isinstance(served, dict):
        return {
            key: _unfilled(value, served.get(key))
            for key, value in read.items()
            if key in served or value not in ([], {})
        }
    if isinstance(read, list) and isinstance(served, list) and len(read) == len(served):
        return [_unfilled(r, s) for r, s in zip(read, served, strict=True)]
    return read
