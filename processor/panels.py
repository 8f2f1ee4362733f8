"""Panels: figures made of tone rather than ink — a grisaille's grey wash, a photograph, a
painted ground — bounded by the straight, sharp edges of their frame.

Their ink is faint or their shades many, and a support read locally takes their tone for the
paper's. Read instead from the outside: strokes, dots and script are closed away, the paper is
flooded from the page's margins up to the first sharp edges, and what the flood cannot reach
is marked. A marked area about rectangular and darker than the paper around it is a panel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

Box = tuple[int, int, int, int]  # x0, y0, x1, y1

FLOOD_SIZE = 400  # the flood runs on an image this long, about
EDGE = 3.0  # a sharp edge: the tone changes this much per reduced pixel
TONE = 8.0  # a panel is this much darker than the paper around it, at least
SQUARE = 0.85  # a panel fills this share of its box, turned to fit it
MARGIN = 0.05  # the flood starts in the outer band of the page, this share of its size
TURNS = np.radians(np.arange(-3.0, 3.5, 0.5))  # how far the page may be turned


def _closed(grey: np.ndarray, pitch: float) -> np.ndarray:
    """The page without anything thinner than half a line: strokes, dots, script."""
    size = max(3, int(0.6 * pitch))
    return np.asarray(ndi.minimum_filter(ndi.maximum_filter(grey, size), size))


def _reduced(image: np.ndarray, step: int) -> np.ndarray:
    """The mean of each step-by-step block: smaller and less noisy."""
    height, width = image.shape[0] // step * step, image.shape[1] // step * step
    blocks = image[:height, :width].reshape(height // step, step, width // step, step)
    return np.asarray(blocks.mean(axis=(1, 3)))


def _squareness(rows: np.ndarray, cols: np.ndarray) -> float:
    """The share of its box an area fills, the box turned to fit it best."""
    best = 0.0
    for turn in TURNS:
        cos, sin = np.cos(turn), np.sin(turn)
        u, v = cols * cos + rows * sin, rows * cos - cols * sin
        box = (float(np.ptp(u)) + 1) * (float(np.ptp(v)) + 1)
        best = max(best, len(rows) / box)
    return best


def panels(grey: np.ndarray, page: np.ndarray, pitch: float, least: float) -> list[Box]:
    """Boxes, in `grey`'s pixels, of the panels on the page, each at least `least` pixels
    each way."""
    step = max(1, round(max(grey.shape) / FLOOD_SIZE))
    closed = _closed(grey, pitch)
    small = _reduced(closed, step)
    inside = page[::step, ::step][: small.shape[0], : small.shape[1]]
    # A gap of a pixel in a panel's edge would let the flood in: edges are widened by one.
    sharp = ndi.binary_dilation(ndi.gaussian_gradient_magnitude(small, 1.0) >= EDGE)
    calm = ~sharp & inside
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not len(rows):
        return []
    depth = max(2, int(MARGIN * min(rows[-1] - rows[0], cols[-1] - cols[0])))
    margin = inside & ~ndi.binary_erosion(inside, iterations=depth)
    labels, _ = ndi.label(calm)
    flooded = np.isin(labels, np.unique(labels[margin & calm]))
    flooded[labels == 0] = False
    marked, _ = ndi.label(inside & ~flooded)
    found = []
    for index, area in enumerate(ndi.find_objects(marked), start=1):
        if area is None:
            continue
        height, width = area[0].stop - area[0].start, area[1].stop - area[1].start
        if min(height, width) * step < least:
            continue
        held = marked[area] == index
        ys, xs = np.nonzero(held)
        if _squareness(ys.astype(float), xs.astype(float)) < SQUARE:
            continue
        y0, y1 = max(0, area[0].start - 3), area[0].stop + 3
        x0, x1 = max(0, area[1].start - 3), area[1].stop + 3
        around = flooded[y0:y1, x0:x1]
        if not around.any():
            continue
        paper = float(np.median(small[y0:y1, x0:x1][around]))
        tone = float(np.median(small[area][held]))
        if paper - tone >= TONE:
            found.append(_fitted(closed, (x0, y0, x1, y1), step, (paper + tone) / 2))
    return found


def _fitted(closed: np.ndarray, near: Box, step: int, level: float) -> Box:
    """The panel's box in full pixels: where the closed page is darker than `level`, on the
    rows and columns that are mostly so (a speck beside the panel does not widen it)."""
    x0, y0, x1, y1 = (v * step for v in near)
    darker = closed[y0:y1, x0:x1] < level
    rows, cols = darker.sum(axis=1), darker.sum(axis=0)
    ys = np.flatnonzero(rows >= 0.1 * rows.max())
    xs = np.flatnonzero(cols >= 0.1 * cols.max())
    return x0 + int(xs[0]), y0 + int(ys[0]), x0 + int(xs[-1]) + 1, y0 + int(ys[-1]) + 1
