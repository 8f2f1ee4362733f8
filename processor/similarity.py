"""Which regions look alike: a descriptor per region, cosine similarity, top-k pairs.

The descriptor samples the region's ink on rings around its centre of mass, scaled to its
extent, and keeps the magnitudes of each ring's angular Fourier transform: the same figure
drawn larger or smaller, elsewhere, turned, mirrored, in another ink or with another pen gives
nearly the same vector.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from processor.regions import ink_masks

RINGS = 24
ANGLES = 64
HARMONICS = 8
SIZE = RINGS * HARMONICS


def descriptor(image: Image.Image) -> np.ndarray:
    """A unit vector describing the shape of the ink in a region's image."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    ink = ink_masks(rgb)[0] if min(rgb.shape[:2]) >= 16 else rgb.mean(axis=2) < 128
    ink = ndi.binary_dilation(ink, iterations=1)
    ys, xs = np.nonzero(ink)
    if len(xs) == 0:
        return np.zeros(SIZE)
    cy, cx = ys.mean(), xs.mean()
    radius = float(np.sqrt((ys - cy) ** 2 + (xs - cx) ** 2).max()) + 1.0
    rings = (np.arange(RINGS) + 0.5) / RINGS * radius
    angles = np.arange(ANGLES) / ANGLES * 2 * np.pi
    r, a = np.meshgrid(rings, angles, indexing="ij")
    # A blur in proportion to the figure, so that stroke width and noise matter little.
    blurred = ndi.gaussian_filter(ink.astype(np.float32), sigma=max(1.0, radius / 60))
    polar = ndi.map_coordinates(blurred, [cy + r * np.sin(a), cx + r * np.cos(a)], order=1)
    vector = np.abs(np.fft.rfft(polar, axis=1))[:, :HARMONICS].ravel()
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _coarse(matrix: np.ndarray) -> np.ndarray:
    """The fast descriptor: each ring's amount of ink alone (its zeroth harmonic)."""
    profile = matrix.reshape(len(matrix), RINGS, HARMONICS)[:, :, 0]
    norms = np.linalg.norm(profile, axis=1, keepdims=True)
    return np.asarray(profile / np.where(norms == 0, 1, norms))


def similar_pairs(
    vectors: Sequence[np.ndarray],
    topk: int,
    threshold: float,
    skip: Collection[tuple[int, int]] = (),
    others: Sequence[np.ndarray] | None = None,
    prefilter: int | None = None,
) -> list[tuple[int, int, float]]:
    """`(i, j, score)`, best first: each region's `topk` most similar regions scoring at least
    `threshold`, except the pairs in `skip`.

    Within one set of vectors (`others` None) pairs have i < j and `skip` holds either order;
    between two sets, i indexes `vectors`, j indexes `others`, and each region of either set
    keeps its top k in the other. With `prefilter`, a region's candidates are first cut to
    that many by the coarse descriptor.
    """
    same = others is None
    if not len(vectors) or (same and len(vectors) < 2) or (not same and not len(others or [])):
        return []
    first = np.vstack(vectors)
    second = first if same else np.vstack(list(others or []))
    scores = first @ second.T
    if prefilter is not None and prefilter < scores.shape[1]:
        coarse = _coarse(first) @ _coarse(second).T
        if same:
            np.fill_diagonal(coarse, -np.inf)
        cut = -np.sort(-coarse, axis=1)[:, prefilter - 1 : prefilter]
        scores = np.where(coarse >= cut, scores, -np.inf)
    if same:
        np.fill_diagonal(scores, -np.inf)
    skipped = {tuple(sorted(pair)) for pair in skip} if same else set(skip)
    pairs: dict[tuple[int, int], float] = {}
    keep = max(0, topk)
    candidates = [(i, int(j)) for i in range(len(first)) for j in np.argsort(-scores[i])[:keep]]
    if not same:
        candidates += [
            (int(i), j) for j in range(len(second)) for i in np.argsort(-scores[:, j])[:keep]
        ]
    for i, j in candidates:
        key = (min(i, j), max(i, j)) if same else (i, j)
        score = float(scores[i, j])
        if score >= threshold and key not in skipped:
            pairs[key] = score
    return sorted(((i, j, s) for (i, j), s in pairs.items()), key=lambda p: -p[2])
