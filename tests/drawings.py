"""Pictures with known answers for the processor's tests, drawn here rather than taken from the
demo generator, so that the processor is tested on drawings it was not tuned on."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw

PARCHMENT = (236, 224, 196)
INK = (60, 40, 25)


def diagram(size: int, variant: int = 0, ink: tuple[int, int, int] = INK) -> Image.Image:
    """A circle diagram: concentric rings, spokes and a few marks that differ by variant."""
    image = Image.new("RGB", (size, size), PARCHMENT)
    draw = ImageDraw.Draw(image)
    centre, pen = size // 2, max(2, size // 120)
    for ring in (0.45, 0.32, 0.18):
        radius = int(size * ring)
        draw.ellipse(
            (centre - radius, centre - radius, centre + radius, centre + radius),
            outline=ink,
            width=pen,
        )
    spokes = 4 + 2 * variant
    for index in range(spokes):
        angle = 6.2832 * index / spokes
        end = (centre + size * 0.45 * math.cos(angle), centre + size * 0.45 * math.sin(angle))
        draw.line((centre, centre, *end), fill=ink, width=pen)
    return image


def page(
    width: int = 1000,
    height: int = 1400,
    figure: tuple[int, int, int] | None = (250, 420, 480),
    variant: int = 0,
    seed: int = 1,
) -> Image.Image:
    """A page of ruled writing with, when `figure` (x, y, side) is given, a diagram there."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), PARCHMENT)
    draw = ImageDraw.Draw(image)
    margin, line = width // 10, max(12, height // 70)
    box = (
        None
        if figure is None
        else (figure[0], figure[1], figure[0] + figure[2], figure[1] + figure[2])
    )
    for y in range(margin, height - margin, 2 * line):
        x = margin
        while x < width - margin:
            word = rng.randint(line, 4 * line)
            inside = (
                box
                and box[1] - line < y < box[3] + line
                and box[0] - line < x + word
                and x < box[2] + line
            )
            if not inside:
                draw.rectangle((x, y, min(x + word, width - margin), y + line // 2), fill=INK)
            x += word + line // 2
    if figure is not None:
        image.paste(diagram(figure[2], variant), (figure[0], figure[1]))
    return image


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
