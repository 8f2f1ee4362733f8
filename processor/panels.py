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

from processor.grid import reduced
from processor.morphology import running_max, running_min

Box = tuple[int, int, int, int]  # x0, y0, x1, y1

FLOOD_SIZE = 400  # the flood runs on an image this long, about
EDGE = 3.0  # a sharp edge: the tone changes this much per reduced pixel
THIN = 40.0  # a line is this much darker than the page closed around it
TONE = 8.0  # a panel is this much darker than the paper around it, at least
SQUARE = 0.85  # a panel fills this share of its box, turned to fit it
GAP = 2.0  # reduced pixels: the widest gap in an edge the flood does not pass
MARGIN = 0.05  # the flood starts in the outer band of the page, this share of its size
TURNS = np.radians(np.arange(-3.0, 3.5, 0.5))  # how far the page may be turned


def _closed(grey: np.ndarray, pitch: float) -> np.ndarray:
    """The page without anything thinner than a line and a half: strokes, dots, script, even
    dense and showing through."""
    size = max(3, int(1.5 * pitch))
    return running_min(running_max(grey, size), size)


def _squareness(rows: np.ndarray, cols: np.ndarray) -> float:
    """The share of its box an area fills, the box turned to fit it best."""
    best = 0.0
    for turn in TURNS:
        cos, sin = np.cos(turn), np.sin(turn)
        u, v = cols * cos + rows * sin, rows * cos - cols * sin
        box = (float(np.ptp(u)) + 1) * (float(np.ptp(v)) + 1)
        best = max(best, len(rows) / box)
    return best


def _lines(thin: np.ndarray, step: int, least: float) -> np.ndarray:
    """Thin dark lines at least `least` pixels long, on the reduced grid: a panel's frame,
    whose faint wash alone may not stop the flood."""
    pooled = reduced(thin, step) > 0
    labels, count = ndi.label(pooled, structure=np.ones((3, 3)))
    sizes = ndi.sum_labels(pooled, labels, np.arange(1, count + 1))
    long = np.zeros(count + 1, bool)
    for index, found in enumerate(ndi.find_objects(labels), start=1):
        if found is not None:
            tall, wide = found[0].stop - found[0].start, found[1].stop - found[1].start
            # Lines, or a frame of them, not a blob: lines of small script pooled together.
            linear = sizes[index - 1] <= 2.5 * (tall + wide)
            long[index] = linear and max(tall, wide) * step >= least
    return np.asarray(long[labels], dtype=bool)


def _margin(inside: np.ndarray) -> np.ndarray | None:
    """The outer band of the page, where the flood starts; None if there is no page."""
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not len(rows):
        return None
    depth = max(2, int(MARGIN * min(rows[-1] - rows[0], cols[-1] - cols[0])))
    return np.asarray(inside & ~ndi.binary_erosion(inside, iterations=depth))


def _flooded(calm: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """The paper a flood from the margin reaches through `calm` pixels: clear of sharp
    edges (and of long lines, when those are to stop it too)."""
    # A faint panel's edge has gaps: the flood runs only where it is a few pixels clear of
    # every edge, and then reaches up to them.
    core = ndi.distance_transform_edt(calm) > GAP
    labels, _ = ndi.label(core)
    flooded = np.isin(labels, np.unique(labels[margin & core]))
    flooded[labels == 0] = False
    return np.asarray(ndi.binary_dilation(flooded, iterations=int(GAP) + 1) & calm)


def panels(grey: np.ndarray, page: np.ndarray, pitch: float, least: float) -> list[Box]:
    """Boxes, in `grey`'s pixels, of the panels on the page, each at least `least` pixels
    each way. Looked for at half size: a panel's box needs no finer grain."""
    grey = reduced(grey, 2)
    page = page[: 2 * grey.shape[0] : 2, : 2 * grey.shape[1] : 2]
    pitch, least = pitch / 2, least / 2
    step = max(1, round(max(grey.shape) / FLOOD_SIZE))
    closed = _closed(grey, pitch)
    small = reduced(closed, step)
    inside = page[: grey.shape[0] : step, : grey.shape[1] : step][
        : small.shape[0], : small.shape[1]
    ]
    margin = _margin(inside)
    if margin is None:
        return []
    lines = _lines(closed - grey > THIN, step, least)[: small.shape[0], : small.shape[1]]
    calm = (ndi.gaussian_gradient_magnitude(small, 1.0) < EDGE) & inside
    flooded = _flooded(calm, margin)
    framed = _flooded(calm & ~lines, margin)
    # What long lines enclose is paper still when its tone is the paper's: a column in its
    # frame of rules, text between ruling. A faint panel in its frame is darker.
    enclosed, _ = ndi.label(flooded & ~framed)
    for index, area in enumerate(ndi.find_objects(enclosed), start=1):
        if area is not None:
            held = enclosed[area] == index
            paper = _around(small, framed, area)
            if paper is None or paper - float(np.median(small[area][held])) < TONE:
                framed[area] |= held
    flooded = framed
    # What the flood did not reach, apart from thin lines of edges (around script left by the
    # closing): the lines would join panels to one another and to the text.
    marked, _ = ndi.label(ndi.binary_opening(inside & ~flooded, iterations=int(GAP)))
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
        paper = _around(small, flooded, area)
        tone = float(np.median(small[area][held]))
        if paper is not None and paper - tone >= TONE:
            fitted = _fitted(closed, _widened(area), step, (paper + tone) / 2)
            if fitted:
                x0, y0, x1, y1 = fitted
                found.append((2 * x0, 2 * y0, 2 * x1, 2 * y1))
    return found


def _widened(area: tuple[slice, slice]) -> tuple[slice, slice]:
    """An area with a few reduced pixels more on every side."""
    return (
        slice(max(0, area[0].start - 3), area[0].stop + 3),
        slice(max(0, area[1].start - 3), area[1].stop + 3),
    )


def _around(small: np.ndarray, paper: np.ndarray, area: tuple[slice, slice]) -> float | None:
    """The tone of the paper just around an area, None if none lies there."""
    near = _widened(area)
    around = paper[near]
    return float(np.median(small[near][around])) if around.any() else None


def _fitted(closed: np.ndarray, near: tuple[slice, slice], step: int, level: float) -> Box | None:
    """The panel's box on the closed page's grid, `near` being on the reduced one: where the
    closed page is darker than `level`, on the rows and columns that are mostly so (a speck
    beside the panel does not widen it); None where nothing is darker."""
    y0, x0 = near[0].start * step, near[1].start * step
    darker = closed[y0 : near[0].stop * step, x0 : near[1].stop * step] < level
    rows, cols = darker.sum(axis=1), darker.sum(axis=0)
    if not rows.any():
        return None
    ys = np.flatnonzero(rows >= 0.1 * rows.max())
    xs = np.flatnonzero(cols >= 0.1 * cols.max())
    return x0 + int(xs[0]), y0 + int(ys[0]), x0 + int(xs[-1]) + 1, y0 + int(ys[-1]) + 1
