"""Figures and initials, each drawn on a white tile that is multiplied onto the page as ink is
absorbed by it."""

from __future__ import annotations

import string

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.scans.paper import smooth_field

Colour = tuple[int, int, int]
PIGMENTS: dict[str, Colour] = {
    "red": (176, 38, 30),
    "blue": (36, 66, 152),
    "gold": (196, 152, 58),
    "black": (28, 24, 22),
    "green": (46, 112, 70),
}
FIGURE_KINDS = ("miniature", "woodcut", "diagram", "stipple", "grisaille", "photo", "drawing")
INITIAL_KINDS = ("lombard", "flourished", "historiated", "woodcut", "block")


def _tile(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    tile = Image.new("RGB", (width, height), "white")
    return tile, ImageDraw.Draw(tile)


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _shapes(
    rng: np.random.Generator, pen: ImageDraw.ImageDraw, w: int, h: int, **style: object
) -> None:
    """People, hills and towers: a few ellipses and polygons."""
    for _ in range(int(rng.integers(3, 8))):
        x, y = rng.uniform(0.1, 0.8) * w, rng.uniform(0.15, 0.8) * h
        size = rng.uniform(0.08, 0.3) * min(w, h)
        if rng.random() < 0.5:
            pen.ellipse((x, y, x + size * rng.uniform(0.5, 1.2), y + size), **style)  # type: ignore[arg-type]
        else:
            points = [
                (x + rng.uniform(-1, 1) * size, y + rng.uniform(-1, 1) * size) for _ in range(5)
            ]
            pen.polygon(points, **style)  # type: ignore[arg-type]


def _hatch(
    pen: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    step: float,
    angle: float,
    width: int,
) -> None:
    x0, y0, x1, y1 = box
    dx, dy = np.cos(angle), np.sin(angle)
    length = (x1 - x0) + (y1 - y0)
    for offset in np.arange(-length, length, step):
        cx, cy = (x0 + x1) / 2 - dy * offset, (y0 + y1) / 2 + dx * offset
        pen.line(
            (cx - dx * length, cy - dy * length, cx + dx * length, cy + dy * length),
            fill=(20, 18, 16),
            width=width,
        )


def figure(
    rng: np.random.Generator, kind: str, width: int, height: int, pitch: float
) -> Image.Image:
    tile, pen = _tile(width, height)
    line = max(1, int(pitch / 10))
    if kind == "miniature":
        frame = PIGMENTS[pick(rng, ["gold", "red", "blue"])]
        pen.rectangle((0, 0, width - 1, height - 1), fill=frame)
        inset = max(3, int(pitch / 4))
        ground = PIGMENTS[pick(rng, ["blue", "green", "red"])]
        pen.rectangle(
            (inset, inset, width - inset, height - inset),
            fill=tuple(min(255, c + 60) for c in ground),
        )
        for _ in range(2):
            _shapes(
                rng,
                pen,
                width,
                height,
                fill=PIGMENTS[pick(rng, list(PIGMENTS))],
                outline=(40, 30, 25),
                width=line,
            )
    elif kind == "woodcut":
        if rng.random() < 0.7:
            pen.rectangle((0, 0, width - 1, height - 1), outline=(20, 18, 16), width=2 * line + 1)
        for _ in range(int(rng.integers(4, 9))):
            x0, y0 = rng.uniform(0, 0.7) * width, rng.uniform(0, 0.7) * height
            box = (x0, y0, x0 + rng.uniform(0.2, 0.5) * width, y0 + rng.uniform(0.2, 0.5) * height)
            patch, patch_pen = _tile(width, height)
            _hatch(patch_pen, box, rng.uniform(3, 6), rng.uniform(0, np.pi), 1)
            mask = Image.new("L", (width, height), 0)
            ImageDraw.Draw(mask).ellipse(box, fill=255)
            tile.paste(Image.fromarray(np.minimum(np.asarray(tile), np.asarray(patch))), mask=mask)
        _shapes(rng, pen, width, height, outline=(20, 18, 16), width=line + 1)
        _shapes(rng, pen, width, height // 2, fill=(20, 18, 16))
    elif kind == "diagram":
        cx, cy = width / 2, height / 2
        radius = min(width, height) / 2 - line - 1
        for ring in range(int(rng.integers(1, 4))):
            r = radius * (1 - ring * 0.28)
            pen.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(60, 40, 28), width=line)
        for angle in rng.uniform(0, 2 * np.pi, int(rng.integers(2, 9))):
            pen.line(
                (cx, cy, cx + radius * np.cos(angle), cy + radius * np.sin(angle)),
                fill=(60, 40, 28),
                width=line,
            )
        font = ImageFont.load_default(size=max(8, int(pitch * 0.45)))
        for _ in range(int(rng.integers(2, 7))):
            pen.text(
                (cx + rng.uniform(-0.6, 0.5) * radius, cy + rng.uniform(-0.6, 0.5) * radius),
                pick(rng, ["sol", "luna", "terra", "ignis", "aer"]),
                font=font,
                fill=(120, 34, 24),
            )
    elif kind == "stipple":
        shade = np.zeros((height, width), np.float32)
        yy, xx = np.mgrid[0:height, 0:width]
        for _ in range(int(rng.integers(2, 5))):
            cx, cy = rng.uniform(0.25, 0.75) * width, rng.uniform(0.25, 0.75) * height
            rx, ry = rng.uniform(0.15, 0.35) * width, rng.uniform(0.15, 0.35) * height
            shade = np.maximum(
                shade, np.clip(1 - ((xx - cx) / rx) ** 2 - ((yy - cy) / ry) ** 2, 0, 1)
            )
        shade[:2, :] = shade[-2:, :] = 1.0  # the plate's edges, where the stippling is densest
        shade[:, :2] = shade[:, -2:] = 1.0
        density = 0.04 + 0.3 * shade * (0.6 + 0.4 * smooth_field(rng, width, height, 20))
        dots = rng.random((height, width)) < density * 0.35
        tile = Image.fromarray(np.where(dots, 30, 255).astype(np.uint8)).convert("RGB")
        tile = tile.filter(ImageFilter.MinFilter(3))
    elif kind == "grisaille":
        wash = 0.5 + 0.5 * smooth_field(rng, width, height, max(8, width // 6))
        mask = Image.new("L", (width, height), 0)
        _shapes(rng, ImageDraw.Draw(mask), width, height, fill=255)
        ImageDraw.Draw(mask).rectangle((0, int(height * 0.7), width, height), fill=255)
        mask_array = np.asarray(mask.filter(ImageFilter.GaussianBlur(3)), np.float32) / 255
        darkness = (35 + 45 * wash) * np.maximum(mask_array, 0.35)
        grey = (255 - darkness)[..., None] * np.array([0.98, 0.97, 1.0], np.float32)
        tile = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
        pen = ImageDraw.Draw(tile)
        _shapes(rng, pen, width, height, outline=(110, 105, 110), width=1)
        pen.rectangle((0, 0, width - 1, height - 1), outline=(120, 115, 118), width=1)
    elif kind == "photo":
        field = 0.5 + 0.35 * smooth_field(rng, width, height, max(6, width // 8))
        field += 0.15 * smooth_field(rng, width, height, 4)
        grey = np.clip(40 + 190 * field, 0, 255)
        tile = Image.fromarray(grey.astype(np.uint8)).convert("RGB")
    else:  # a pen drawing: a few long strokes, nothing filled
        for _ in range(int(rng.integers(6, 14))):
            points = [(rng.uniform(0.02, 0.98) * width, rng.uniform(0.02, 0.98) * height)]
            for _ in range(int(rng.integers(3, 8))):
                x, y = points[-1]
                points.append(
                    (
                        float(np.clip(x + rng.normal(0, width / 5), 0, width - 1)),
                        float(np.clip(y + rng.normal(0, height / 5), 0, height - 1)),
                    )
                )
            pen.line(points, fill=(70, 46, 30), width=line, joint="curve")
        pen.line([(0, 0), (width - 1, 0)], fill=(70, 46, 30), width=line)
        pen.line([(0, height - 1), (width - 1, height - 1)], fill=(70, 46, 30), width=line)
    return tile


def _centred(
    pen: ImageDraw.ImageDraw,
    letter: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    fill: Colour | str | None,
    stroke: int,
    outline: Colour | str,
) -> None:
    """A letter in the middle of a square tile, its strokes thickened by `stroke`."""
    size = pen.im.size[0]
    pen.text(
        (size / 2, size / 2),
        letter,
        font=font,
        fill=fill,
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=outline,
    )


def initial(rng: np.random.Generator, kind: str, colour: str, size: int) -> Image.Image:
    letter = pick(rng, list(string.ascii_uppercase.replace("I", "").replace("J", "")))
    ink = PIGMENTS[colour]
    other = PIGMENTS["blue" if colour == "red" else "red"]
    tile, pen = _tile(size, size)
    font = ImageFont.load_default(size=int(size * 1.05))
    if kind in ("lombard", "flourished"):
        inset = int(size * 0.16) if kind == "flourished" else 0
        small = ImageFont.load_default(size=int((size - 2 * inset) * 1.1))
        _centred(pen, letter, small, ink, max(1, size // 14), ink)
        if kind == "flourished":
            width = max(1, size // 60)
            for _ in range(int(rng.integers(14, 26))):
                x, y = rng.uniform(0, size), rng.uniform(0, size)
                if inset < x < size - inset and inset < y < size - inset:
                    continue
                r = rng.uniform(1, max(2, size * 0.07))
                pen.arc(
                    (x - r, y - r, x + r, y + r),
                    rng.uniform(0, 180),
                    rng.uniform(200, 360),
                    fill=other,
                    width=width,
                )
            pen.line((1, 1, 1, size - 2), fill=other, width=width)
            pen.line((1, 1, size - 2, 1), fill=other, width=width)
            pen.line((1, size - 2, size - 2, size - 2), fill=other, width=width)
    elif kind == "historiated":
        pen.rectangle((0, 0, size - 1, size - 1), fill=PIGMENTS["gold"])
        inset = max(3, size // 12)
        pen.rectangle(
            (inset, inset, size - inset, size - inset), fill=tuple(min(255, c + 50) for c in ink)
        )
        _shapes(
            rng,
            pen,
            size,
            size,
            fill=PIGMENTS[pick(rng, ["green", "red", "blue"])],
            outline=(40, 30, 25),
        )
        _centred(pen, letter, font, None, max(2, size // 25), PIGMENTS["gold"])
    elif kind == "woodcut":
        pen.rectangle((0, 0, size - 1, size - 1), fill=PIGMENTS["black"])
        for _ in range(int(rng.integers(6, 16))):
            x, y, r = (
                rng.uniform(0, size),
                rng.uniform(0, size),
                rng.uniform(1, max(1.5, size / 25)),
            )
            pen.ellipse((x - r, y - r, x + r, y + r), fill="white")
        inset = max(2, size // 20)
        pen.rectangle((inset, inset, size - inset, size - inset), outline="white", width=1)
        _centred(pen, letter, font, "white", max(1, size // 30), "white")
    else:  # block
        pen.rectangle((0, 0, size - 1, size - 1), fill=ink)
        face = "white" if colour != "gold" else PIGMENTS["red"]
        _centred(pen, letter, font, face, max(1, size // 30), face)
    return tile
