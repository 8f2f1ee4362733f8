"""Turn a region's strokes into SVG: circles and straight lines where they are, paths elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.draw import circle_perimeter
from skimage.feature import peak_local_max
from skimage.measure import approximate_polygon, find_contours
from skimage.morphology import skeletonize
from skimage.transform import hough_circle, probabilistic_hough_line

from processor.regions import ink_masks

CIRCLE_COVERAGE = 0.75  # share of a circle's perimeter that must be drawn
MAX_CIRCLES = 12
NEAR = 2  # pixels: how close a stroke must run to a shape to belong to it


@dataclass(frozen=True)
class Strokes:
    width: int
    height: int
    pen: float
    circles: list[tuple[float, float, float]]
    lines: list[tuple[tuple[int, int], tuple[int, int]]]
    paths: list[list[tuple[float, float]]]


def _ink(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    if min(rgb.shape[:2]) >= 16:
        return ink_masks(rgb)[0]
    return np.asarray(rgb.mean(axis=2) < 128, dtype=bool)


def _circles(skeleton: np.ndarray) -> list[tuple[float, float, float]]:
    """Circles most of whose perimeter is drawn. Peaks are taken radius by radius, because
    diagrams are full of concentric circles that a search across radii would merge."""
    height, width = skeleton.shape
    smallest, largest = max(4, min(height, width) // 20), max(5, max(height, width) // 2 + 2)
    radii = np.arange(smallest, largest, 2)
    near = ndi.binary_dilation(skeleton, iterations=NEAR)
    candidates: list[tuple[float, int, int, int]] = []
    for radius, votes in zip(radii, hough_circle(skeleton, radii), strict=True):
        for cy, cx in peak_local_max(
            votes, min_distance=3, threshold_abs=CIRCLE_COVERAGE * 0.4, num_peaks=4
        ):
            candidates.append((float(votes[cy, cx]), int(cx), int(cy), int(radius)))
    found: list[tuple[float, float, float]] = []
    for _, cx, cy, radius in sorted(candidates, reverse=True):
        rows, cols = circle_perimeter(cy, cx, radius, shape=skeleton.shape)
        if not len(rows) or near[rows, cols].mean() < CIRCLE_COVERAGE:
            continue
        if any(
            abs(cx - x) <= NEAR + 1 and abs(cy - y) <= NEAR + 1 and abs(radius - r) <= NEAR + 1
            for x, y, r in found
        ):
            continue
        found.append((float(cx), float(cy), float(radius)))
        if len(found) == MAX_CIRCLES:
            break
    return found


def _erase(mask: np.ndarray, drawn: np.ndarray, pen: float = 1.0) -> np.ndarray:
    """The mask without what lies along the drawn shapes, as wide as the pen and a margin."""
    margin = NEAR + 1 + int(np.ceil(pen / 2))
    return np.asarray(mask & ~ndi.binary_dilation(drawn, iterations=margin), dtype=bool)


def _without_specks(mask: np.ndarray, smallest: int = 12) -> np.ndarray:
    """Drop the crumbs a shape's erasure leaves, keeping thin strokes whole."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= smallest
    keep[0] = False
    return np.asarray(keep[labels], dtype=bool)


def vectorize(image: Image.Image) -> Strokes:
    ink = _ink(image)
    height, width = ink.shape
    skeleton = skeletonize(ink)
    length = int(skeleton.sum())
    pen = float(ink.sum()) / length if length else 1.0
    circles = _circles(skeleton)
    drawn = np.zeros_like(ink)
    for cx, cy, radius in circles:
        rows, cols = circle_perimeter(int(cy), int(cx), int(radius), shape=ink.shape)
        drawn[rows, cols] = True
    rest = _erase(skeleton, drawn)
    segment = max(8, min(height, width) // 8)
    lines = [
        ((int(x0), int(y0)), (int(x1), int(y1)))
        for (x0, y0), (x1, y1) in probabilistic_hough_line(
            rest, threshold=10, line_length=segment, line_gap=3, rng=0
        )
    ]
    for (x0, y0), (x1, y1) in lines:
        count = max(abs(x1 - x0), abs(y1 - y0)) + 1
        drawn[
            np.linspace(y0, y1, count).round().astype(int),
            np.linspace(x0, x1, count).round().astype(int),
        ] = True
    leftover = _without_specks(_erase(ink, drawn, pen))
    paths = []
    for contour in find_contours(leftover.astype(np.float32), 0.5):
        simple = approximate_polygon(contour, tolerance=1.0)
        if len(simple) >= 3:
            paths.append([(float(x), float(y)) for y, x in simple])
    return Strokes(width, height, round(pen, 2), circles, lines, paths)


def to_svg(strokes: Strokes, title: str = "", size: tuple[int, int] | None = None) -> str:
    """The strokes as SVG, drawn at `size` (by default the size they were traced at)."""
    width, height = size or (strokes.width, strokes.height)
    pen = f'stroke="black" stroke-width="{max(1.0, strokes.pen):g}" fill="none"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {strokes.width} {strokes.height}">'
    ]
    if title:
        parts.append(f"<title>{title.replace('&', '&amp;').replace('<', '&lt;')}</title>")
    parts += [f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}" {pen}/>' for x, y, r in strokes.circles]
    parts += [
        f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" {pen}/>' for a, b in strokes.lines
    ]
    for points in strokes.paths:
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z"
        parts.append(f"<path d={quoteattr(d)} {pen}/>")
    parts.append("</svg>")
    return "\n".join(parts)
