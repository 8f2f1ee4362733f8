"""The support and what time and the camera did to it: tone, stains, foxing, bleed-through,
light falling off, the gutter's shadow."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

TONES = ((236, 224, 196), (242, 238, 228), (222, 206, 170), (230, 226, 214), (214, 196, 160))


def smooth_field(rng: np.random.Generator, width: int, height: int, cell: int) -> np.ndarray:
    """Noise of features about `cell` pixels wide, about -1 to 1."""
    coarse = rng.normal(0, 1, (height // cell + 2, width // cell + 2)).astype(np.float32)
    return np.asarray(
        Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC), np.float32
    )


def support(rng: np.random.Generator, width: int, height: int, worn: float) -> np.ndarray:
    tone = np.array(TONES[int(rng.integers(len(TONES)))], np.float32) + rng.normal(0, 4, 3)
    paper = tone[None, None, :] + (5 + 6 * worn) * smooth_field(rng, width, height, 90)[..., None]
    paper += rng.normal(0, 2.5, (height, width, 1)).astype(np.float32)
    # Edges darkened by handling.
    edge = np.minimum.outer(
        np.minimum(np.arange(height), np.arange(height)[::-1]),
        np.minimum(np.arange(width), np.arange(width)[::-1]),
    ).astype(np.float32)
    paper -= (10 + 25 * worn) * np.exp(-edge / (15 + 30 * rng.random()))[..., None]
    return paper


def stain(rng: np.random.Generator, paper: np.ndarray, worn: float) -> None:
    height, width = paper.shape[:2]
    for _ in range(int(rng.integers(0, 1 + int(3 * worn)))):
        radius = int(rng.uniform(0.05, 0.2) * width)
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        y, x = np.ogrid[-cy : height - cy, -cx : width - cx]
        wobble = 1 + 0.25 * smooth_field(rng, width, height, max(8, radius // 2))
        distance = np.sqrt(x * x + y * y) / (radius * wobble)
        inside = np.clip(1 - distance, 0, 1) ** 0.5
        rim = np.exp(-(((distance - 1) / 0.06) ** 2))
        darkening = (0.06 + 0.08 * rng.random()) * inside + 0.1 * rim
        paper *= 1 - darkening[..., None] * np.array([0.6, 0.9, 1.4], np.float32)[None, None, :]


def foxing(rng: np.random.Generator, paper: np.ndarray, worn: float) -> None:
    height, width = paper.shape[:2]
    for _ in range(int(rng.integers(0, 1 + int(120 * worn)))):
        radius = rng.uniform(1, 5)
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        r = int(radius) + 2
        y0, y1, x0, x1 = max(0, cy - r), min(height, cy + r), max(0, cx - r), min(width, cx + r)
        y, x = np.ogrid[y0 - cy : y1 - cy, x0 - cx : x1 - cx]
        spot = np.clip(1.2 - np.sqrt(x * x + y * y) / radius, 0, 1) * rng.uniform(0.15, 0.45)
        paper[y0:y1, x0:x1] *= 1 - spot[..., None] * np.array([0.5, 0.8, 1.1], np.float32)


def bleed_through(paper: np.ndarray, verso: Image.Image, strength: float) -> None:
    """The other side's ink, mirrored and softened through the leaf."""
    mirrored = verso.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(
        ImageFilter.GaussianBlur(1.6)
    )
    ink = 1 - np.asarray(mirrored.convert("L"), np.float32) / 255
    paper *= 1 - strength * ink[..., None]


def lighting(rng: np.random.Generator, paper: np.ndarray, gutter: str | None) -> None:
    height, width = paper.shape[:2]
    gx, gy = rng.uniform(-0.12, 0.12, 2)
    ramp = 1 + gx * np.linspace(-1, 1, width)[None, :] + gy * np.linspace(-1, 1, height)[:, None]
    if gutter:
        span = rng.uniform(0.04, 0.12) * width
        depth = rng.uniform(0.25, 0.6)
        distance = np.arange(width) if gutter == "left" else np.arange(width)[::-1]
        ramp = ramp * (1 - depth * np.exp(-distance / span))[None, :]
    paper *= ramp[..., None].astype(np.float32)
