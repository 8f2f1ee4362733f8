"""The reference processor's similarity, on figures with known answers."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from processor.similarity import descriptor, similar_pairs
from webapp.demo.corpus import plan_corpus, render_witness


def _figure(
    kind: str,
    size: int = 300,
    angle: float = 0.0,
    mirror: bool = False,
    ink: str = "black",
    width: int = 3,
) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    s = size / 100
    if kind == "target":
        for radius in (45, 30, 12):
            pen.ellipse(
                (
                    50 * s - radius * s,
                    50 * s - radius * s,
                    50 * s + radius * s,
                    50 * s + radius * s,
                ),
                outline=ink,
                width=width,
            )
    elif kind == "star":
        pen.ellipse((5 * s, 5 * s, 95 * s, 95 * s), outline=ink, width=width)
        for k in range(5):
            t = k * 2 * np.pi / 5
            pen.line(
                (50 * s, 50 * s, 50 * s + 45 * s * np.cos(t), 50 * s + 45 * s * np.sin(t)),
                fill=ink,
                width=width,
            )
    else:  # an eccentric triangle
        pen.polygon(
            [(10 * s, 80 * s), (90 * s, 85 * s), (30 * s, 10 * s)], outline=ink, width=width
        )
    image = image.rotate(angle, fillcolor="white")
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirror else image


def test_the_same_figure_turned_mirrored_resized_and_reinked_scores_highest() -> None:
    reference = descriptor(_figure("star"))
    variants = [
        _figure("star", 180, 25, True, "darkred", 2),
        _figure("star", 420, -40, False, "navy", 5),
    ]
    others = [_figure("target"), _figure("triangle")]
    same = [float(reference @ descriptor(v)) for v in variants]
    different = [float(reference @ descriptor(o)) for o in others]
    assert min(same) > max(different)


def test_pairs_keep_top_k_above_the_threshold_and_honour_skip_pairs() -> None:
    vectors = [
        np.array([1.0, 0.0]),
        np.array([0.99, 0.141]),
        np.array([0.0, 1.0]),
        np.array([0.7, 0.714]),
    ]
    vectors = [v / np.linalg.norm(v) for v in vectors]
    pairs = similar_pairs(vectors, topk=1, threshold=0.0)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (1, 3), (2, 3)]
    assert all(score >= 0.0 for *_, score in pairs)
    assert [(i, j) for i, j, _ in similar_pairs(vectors, topk=1, threshold=0.95)] == [(0, 1)]
    assert (0, 1) not in [(i, j) for i, j, _ in similar_pairs(vectors, 1, 0.0, skip=[(1, 0)])]
    assert similar_pairs(vectors[:1], topk=5, threshold=0.0) == []


def test_recurring_diagrams_are_among_the_five_most_similar_regions() -> None:
    """recall@5 over the ground-truth figures of a generated corpus."""
    witnesses, _ = plan_corpus(13, pages_per_witness=6)
    keys: list[str | None] = []
    vectors = []
    for index, witness in enumerate(witnesses):
        for page in render_witness(13, index, witness):
            buffer = io.BytesIO()
            page.image.save(buffer, "JPEG", quality=88)
            scan = Image.open(buffer)
            for region in page.regions:
                if region.kind != "initial":
                    x, y, w, h = region.box
                    keys.append(region.diagram)
                    vectors.append(descriptor(scan.crop((x, y, x + w, y + h))))
    scores = np.vstack(vectors) @ np.vstack(vectors).T
    np.fill_diagonal(scores, -np.inf)
    recurring = [i for i, key in enumerate(keys) if key and keys.count(key) > 1]
    assert len(recurring) >= 6
    hits = sum(any(keys[j] == keys[i] for j in np.argsort(-scores[i])[:5]) for i in recurring)
    assert hits / len(recurring) >= 0.8
