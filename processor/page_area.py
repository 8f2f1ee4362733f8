"""Where the page is in a scan: the leaf (or the two leaves of an opening) apart from what the
camera saw around it — the scanner's bed, a border, a colour chart, a ruler."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

STEP = 8  # the page is found on an image this many times smaller
LEAF = 0.08  # a leaf covers at least this share of the scan


def page_mask(grey: np.ndarray) -> np.ndarray:
    """True on the page, at `grey`'s size. The support is the brightest broad area: on a
    reduced image the bright side of an Otsu split is labelled, small bright things (a chart's
    white patch, a ruler) are dropped, and each leaf's outline is filled, figures included."""
    small = grey[::STEP, ::STEP]
    if small.size < 16 or float(small.std()) < 1:
        return np.ones(grey.shape, bool)
    bright = small > threshold_otsu(small)
    bright = ndi.binary_opening(bright, iterations=2)
    labels, count = ndi.label(bright)
    if not count:
        return np.ones(grey.shape, bool)
    areas = ndi.sum_labels(bright, labels, np.arange(1, count + 1))
    keep = np.flatnonzero(areas >= LEAF * small.size) + 1
    if not len(keep):
        keep = np.array([int(np.argmax(areas)) + 1])
    leaves = np.zeros_like(bright)
    for label in keep:
        leaf = labels == label
        # A leaf's outline is a convex quadrilateral: filling row and column spans closes the
        # bays that dark figures and shadows cut into its edge.
        rows = np.flatnonzero(leaf.any(axis=1))
        cols = np.flatnonzero(leaf.any(axis=0))
        span = np.zeros_like(leaf)
        for row in rows:
            xs = np.flatnonzero(leaf[row])
            span[row, xs[0] : xs[-1] + 1] = True
        across = np.zeros_like(leaf)
        for col in cols:
            ys = np.flatnonzero(span[:, col])
            if len(ys):
                across[ys[0] : ys[-1] + 1, col] = True
        leaves |= across & ndi.binary_fill_holes(span)
    # Off the small image's grid, back to full size, one step in from the edges.
    leaves = ndi.binary_erosion(leaves, iterations=1)
    full = np.repeat(np.repeat(leaves, STEP, axis=0), STEP, axis=1)
    mask = np.zeros(grey.shape, bool)
    mask[: full.shape[0], : full.shape[1]] = full[: grey.shape[0], : grey.shape[1]]
    return mask
