"""What each task does with one document: read its images, run the algorithm, write the result
file of DESIGN 6, and say where it is."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from processor.regions import find_regions
from processor.similarity import descriptor, similar_pairs
from processor.sources import SourceError, SourceImage, document_images, load_image
from processor.vectorization import to_svg, vectorize

# Larger crops are vectorized at this size, the SVG's viewBox keeping them at their own.
VECTORIZE_SIDE = 800


@dataclass
class DocumentWork:
    """One document of a job, and what the task needs around it."""

    position: int
    document: dict[str, str]
    parameters: dict[str, Any]
    directory: Path
    base_url: str
    progress: Callable[[int, int], None]
    errors: list[str] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return self.document["uid"]

    def write(self, name: str, content: bytes) -> str:
        """Keep a result file; its URL."""
        filename = re.sub(r"[^A-Za-z0-9_.,-]", "_", name)[:200]
        (self.directory / filename).write_bytes(content)
        return f"{self.base_url}/{filename}"

    def each_image(self) -> list[tuple[SourceImage, Image.Image]]:
        """The document's images that could be read; the others are errors of the document,
        and a document none of whose images could be read is a failure."""
        sources = document_images(self.document)
        loaded = []
        for done, source in enumerate(sources):
            self.progress(done, len(sources))
            try:
                loaded.append((source, load_image(source.url)))
            except SourceError as exc:
                self.errors.append(f"{source.id}: {exc}")
        if not loaded:
            raise SourceError(f"No image of {self.uid} could be read. {self.errors[0]}")
        return loaded


def _crop(page: str, x: int, y: int, w: int, h: int, confidence: float, kind: str) -> Any:
    return {
        "crop_id": f"{page}_{x},{y},{w},{h}",
        "confidence": confidence,
        "class": {"id": ["illustration", "diagram", "initial"].index(kind), "label": kind},
        "absolute": {"x1": x, "y1": y, "x2": x + w, "y2": y + h, "width": w, "height": h},
    }


def regions(work: DocumentWork) -> list[dict[str, str]]:
    with_initials = work.parameters["model"] == "illustrations_and_initials"
    entries = []
    for source, image in work.each_image():
        width, height = source.width or image.width, source.height or image.height
        sx, sy = width / image.width, height / image.height
        crops = []
        for found in find_regions(image):
            if found.kind == "initial" and not with_initials:
                continue
            x, y = round(found.x * sx), round(found.y * sy)
            w, h = round(found.w * sx), round(found.h * sy)
            crop = _crop(source.id, x, y, w, h, found.confidence, found.kind)
            crop["relative"] = {
                "x1": x / width,
                "y1": y / height,
                "x2": (x + w) / width,
                "y2": (y + h) / height,
                "width": w / width,
                "height": h / height,
            }
            crops.append(crop)
        entries.append(
            {
                "source": source.id,
                "width": width,
                "height": height,
                "doc_uid": work.uid,
                "crops": crops,
            }
        )
    url = work.write(f"{work.uid}.json", json.dumps(entries).encode())
    return [{"doc_id": work.uid, "result_url": url}]


def vectorization(work: DocumentWork) -> list[dict[str, str]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source, image in work.each_image():
            scale = min(1.0, VECTORIZE_SIDE / max(image.size))
            small = image.resize((round(image.width * scale), round(image.height * scale)))
            # Traced small when large, drawn at the crop's own size all the same.
            svg = to_svg(vectorize(small), title=source.id, size=image.size)
            archive.writestr(f"{source.id}.svg", svg)
    url = work.write(f"{work.uid}.zip", buffer.getvalue())
    return [{"doc_id": work.uid, "result_url": url}]


def _descriptors(work: DocumentWork) -> dict[str, Any]:
    images = [
        {"id": source.id, "src": source.url, "vector": descriptor(image).round(6).tolist()}
        for source, image in work.each_image()
    ]
    described = {"uid": work.uid, "src": work.document["src"], "images": images}
    folder = work.directory / "descriptors"
    folder.mkdir(exist_ok=True)
    (folder / f"{work.position:05d}.json").write_text(json.dumps(described))
    return described


def _earlier(work: DocumentWork) -> list[dict[str, Any]]:
    folder = work.directory / "descriptors"
    return [
        json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
        if int(path.stem) < work.position
    ]


def _vectors(images: list[dict[str, Any]]) -> list[np.ndarray]:
    return [np.asarray(image["vector"]) for image in images]


def similarity(work: DocumentWork) -> list[dict[str, str]]:
    """Pairs within this document, then between it and each earlier one: every pair of
    documents is compared once, as soon as both are described."""
    parameters = work.parameters
    skip = {(a, b) for a, b in parameters["skip_pairs"]}
    skip |= {(b, a) for a, b in skip}
    prefilter = parameters["prefilter_n"] if parameters["prefilter"] else None
    current = _descriptors(work)
    first = current["images"]
    first_index = {image["id"]: i for i, image in enumerate(first)}
    entries = []
    for other in [None, *_earlier(work)]:
        second = None if other is None else other["images"]
        second_index = (
            first_index if second is None else {image["id"]: j for j, image in enumerate(second)}
        )
        skipped = [
            (first_index[a], second_index[b])
            for a, b in skip
            if a in first_index and b in second_index
        ]
        pairs = similar_pairs(
            _vectors(first),
            parameters["topk"],
            parameters["threshold"],
            skipped,
            None if second is None else _vectors(second),
            prefilter,
        )
        documents = [current] if other is None else [current, other]
        offset = 0 if other is None else len(first)
        doc_pair = work.uid if other is None else f"{other['uid']}-{work.uid}"
        result = {
            "parameters": parameters,
            "index": {
                "sources": {doc["uid"]: doc["src"] for doc in documents},
                "images": [
                    {"id": image["id"], "src": image["src"], "doc_uid": doc["uid"]}
                    for doc in documents
                    for image in doc["images"]
                ],
            },
            "pairs": [[i, j + offset, round(score, 6), "none", "none"] for i, j, score in pairs],
        }
        url = work.write(f"{doc_pair}.json", json.dumps(result).encode())
        entries.append({"doc_pair": doc_pair, "result_url": url})
    return entries


RUNNERS: dict[str, Callable[[DocumentWork], list[dict[str, str]]]] = {
    "regions": regions,
    "vectorization": vectorization,
    "similarity": similarity,
}
