"""Find illustrations, diagrams and decorated initials on a page image.

Classical image processing, no model: ink is what is darker than the support or coloured;
figures are ink components several text lines tall; initials are compact, filled, coloured
blocks a few lines tall. Every threshold is relative to the page itself (its support, its
text's height), not to any particular manuscript's colours or sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

# Ink is this much darker than the support (on 0 to 255), or this far from its hue.
DARKER = 45.0
CHROMA = 35.0
FIGURE_LINES = 8  # a figure spans more than this many text heights, each way
INITIAL_LINES = (1.5, 8.0)
INITIAL_FILL = 0.8


@dataclass(frozen=True)
class FoundRegion:
    kind: str  # illustration, diagram or initial
    x: int
    y: int
    w: int
    h: int
    confidence: float


def _support(rgb: np.ndarray) -> np.ndarray:
    """The support's colour around each pixel: the brightest tone over a window wider than any
    word or initial, computed on a reduced image."""
    height, width = rgb.shape[:2]
    small = rgb[::8, ::8]
    channels = [
        np.asarray(
            Image.fromarray(ndi.percentile_filter(small[..., c], 90, size=15)).resize(
                (width, height), Image.Resampling.BILINEAR
            )
        )
        for c in range(3)
    ]
    return np.stack(channels, axis=2)


def ink_masks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where there is ink (dark or coloured), and where it is coloured."""
    support = _support(rgb)
    difference = rgb - support
    dark = -difference.mean(axis=2) > DARKER
    # Chroma: the difference once its change of brightness is taken out, so that dark ink is
    # not colour and a coloured wash is.
    residual = difference - difference.mean(axis=2, keepdims=True)
    colour = np.sqrt((residual**2).sum(axis=2)) > CHROMA
    return dark | colour, colour


def _boxes(mask: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    labels, _ = ndi.label(ndi.binary_closing(mask, structure=np.ones((3, 3))))
    boxes = [
        (s[1].start, s[0].start, s[1].stop, s[0].stop)
        for s in ndi.find_objects(labels)
        if s is not None
    ]
    return labels, boxes


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def find_regions(image: Image.Image) -> list[FoundRegion]:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    ink, colour = ink_masks(rgb)
    _, boxes = _boxes(ink)
    if not boxes:
        return []
    heights = np.array([y1 - y0 for _, y0, _, y1 in boxes])
    small = heights[heights < rgb.shape[0] / 20]
    line = float(np.median(small)) if len(small) else rgb.shape[0] / 60
    figures = [
        b for b in boxes if b[3] - b[1] > FIGURE_LINES * line and b[2] - b[0] > FIGURE_LINES * line
    ]
    # A figure inside another (the people in a framed picture) is part of it.
    figures = [f for f in figures if not any(o != f and _inside(f, o) for o in figures)]
    found = []
    for x0, y0, x1, y1 in figures:
        coverage = float(ink[y0:y1, x0:x1].mean())
        colourful = float(colour[y0:y1, x0:x1].mean())
        kind = "illustration" if coverage > 0.35 or colourful > 0.25 else "diagram"
        confidence = min(0.99, 0.6 + 0.4 * min(y1 - y0, x1 - x0) / (12 * line))
        found.append(FoundRegion(kind, x0, y0, x1 - x0, y1 - y0, round(confidence, 3)))
    labels, blocks = _boxes(colour)
    low, high = INITIAL_LINES
    for index, (x0, y0, x1, y1) in enumerate(blocks, start=1):
        height, width = y1 - y0, x1 - x0
        if not (low * line < height <= high * line and 0.75 < width / height < 1.33):
            continue
        if any(_inside((x0, y0, x1, y1), f) for f in figures):
            continue
        fill = float(ndi.binary_fill_holes(labels[y0:y1, x0:x1] == index).mean())
        if fill > INITIAL_FILL:
            found.append(FoundRegion("initial", x0, y0, width, height, round(min(0.95, fill), 3)))
    return found
