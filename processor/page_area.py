"""Where the page is in a scan: the leaf (or the two leaves of an opening) apart from what the
camera saw around it — the scanner's bed, a border, a colour chart, a ruler, fingers."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu
from skimage.morphology import convex_hull_image

STEP = 8  # the page is found on an image this many times smaller
LEAF = 0.08  # a leaf covers at least this share of the scan
HOLD = 0.02  # of the scan's shorter side: thinner than this is a finger, not a leaf


def page_mask(image: np.ndarray) -> np.ndarray:
    """True on the page, at the size of `image` (grey, or RGB on its last axis). The support is
    the brightest broad area: on a reduced image the bright side of an Otsu split is labelled,
    small bright things (a chart's white patch, a ruler) are dropped, and each leaf is taken
    whole, as its convex hull."""
    small = image[::STEP, ::STEP].astype(np.float32)
    if small.ndim == 3:
        small = small.mean(axis=2)
    shape = image.shape[:2]
    if small.size < 16 or float(small.std()) < 1:
        return np.ones(shape, bool)
    bright = small > threshold_otsu(small)
    # Opened with a disk wider than a finger: the fingers holding a page down, lighter than
    # the bed, would join the leaf and take the bed between them into its hull.
    radius = max(2, round(HOLD * min(small.shape)))
    disk = np.hypot(*np.mgrid[-radius : radius + 1, -radius : radius + 1]) <= radius
    bright = ndi.binary_opening(bright, structure=disk)
    labels, count = ndi.label(bright)
    if not count:
        return np.ones(shape, bool)
    areas = ndi.sum_labels(bright, labels, np.arange(1, count + 1))
    keep = np.flatnonzero(areas >= LEAF * small.size) + 1
    if not len(keep):
        keep = np.array([int(np.argmax(areas)) + 1])
    leaves = np.zeros_like(bright)
    for label in keep:
        # A leaf is convex: its hull closes the bays that dark figures and shadows cut into
        # its edge.
        leaves |= convex_hull_image(labels == label)
    # Off the small image's grid, back to full size, one step in from the edges.
    leaves = ndi.binary_erosion(leaves, iterations=1)
    full = np.repeat(np.repeat(leaves, STEP, axis=0), STEP, axis=1)
    mask = np.zeros(shape, bool)
    mask[: full.shape[0], : full.shape[1]] = full[: shape[0], : shape[1]]
    return mask
