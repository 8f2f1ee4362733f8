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


def similar_pairs(
    vectors: Sequence[np.ndarray],
    topk: int,
    threshold: float,
    skip: Collection[tuple[int, int]] = (),
) -> list[tuple[int, int, float]]:
    """`(i, j, score)` with i < j: each region's `topk` most similar others, scoring at least
    `threshold`, except the pairs in `skip` (either order)."""
    if len(vectors) < 2:
        return []
    matrix = np.vstack(vectors)
    scores = matrix @ matrix.T
    np.fill_diagonal(scores, -np.inf)
    skipped = {tuple(sorted(pair)) for pair in skip}
    pairs: dict[tuple[int, int], float] = {}
    for i in range(len(vectors)):
        for j in np.argsort(-scores[i])[: max(0, topk)]:
            key = (min(i, int(j)), max(i, int(j)))
            score = float(scores[i, j])
            if score >= threshold and key not in skipped:
                pairs[key] = score
    return sorted(((i, j, s) for (i, j), s in pairs.items()), key=lambda p: -p[2])
