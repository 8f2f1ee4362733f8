"""One page of a manuscript or an early print: columns of script flowing around figures and
initials, ruled or framed, each ornament recorded where it was drawn."""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.scans import ornaments
from bench.scans.paper import bleed_through, foxing, lighting, stain, support

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True)
class Truth:
    kind: str  # illustration, diagram or initial
    style: str  # what was drawn: woodcut, lombard, …
    box: Box


@dataclass(frozen=True)
class Style:
    pitch: float  # from one baseline to the next
    printed: bool
    worn: float  # 0 clean to 1 much handled
    touching: float  # the chance that a figure has text right against it
    bleed: float  # the strength of the other side's ink, 0 for none


INK = ((40, 30, 24), (28, 24, 22), (70, 46, 32))


def _script_line(
    pen: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    x0: float,
    x1: float,
    base: float,
    xheight: float,
    ink: tuple[int, int, int],
) -> None:
    """Pen-written letters: minims, bowls, ascenders and descenders, grouped in words."""
    width = max(1, round(xheight / 5))
    x = x0
    while x < x1 - xheight:
        for _ in range(int(rng.integers(2, 8))):
            step = xheight * rng.uniform(0.45, 0.75)
            if x + step > x1:
                break
            shape = rng.random()
            top, bottom = base - xheight, base
            if shape < 0.12:
                top = base - 1.8 * xheight
            elif shape < 0.2:
                bottom = base + 0.7 * xheight
            if 0.45 < shape < 0.65:
                pen.ellipse((x, base - xheight, x + step, base), outline=ink, width=width)
            else:
                pen.line((x + step / 2, top, x + step / 3, bottom), fill=ink, width=width)
            x += step
        x += xheight * rng.uniform(0.7, 1.2)


def _print_line(
    pen: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    x0: float,
    x1: float,
    base: float,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    ink: tuple[int, int, int],
) -> None:
    letters = string.ascii_lowercase
    words = []
    while True:
        words.append(
            "".join(letters[int(i)] for i in rng.integers(0, len(letters), int(rng.integers(2, 9))))
        )
        if pen.textlength(" ".join(words), font=font) > x1 - x0:
            words.pop()
            break
    pen.text((x0, base), " ".join(words), font=font, fill=ink, anchor="ls")


def render(
    rng: np.random.Generator, width: int, height: int, style: Style, gutter: str | None
) -> tuple[np.ndarray, list[Truth]]:
    """The page as float RGB and what is on it."""
    paper = support(rng, width, height, style.worn)
    text = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(text)
    truths: list[Truth] = []
    pitch = style.pitch
    xheight = pitch * rng.uniform(0.38, 0.48)
    font = ImageFont.load_default(size=max(6, round(xheight * 2.1)))
    ink = INK[int(rng.integers(len(INK)))]
    columns = 2 if rng.random() < 0.4 else 1
    left, right = rng.uniform(0.1, 0.16) * width, rng.uniform(0.1, 0.16) * width
    top, bottom = rng.uniform(0.07, 0.11) * height, height - rng.uniform(0.11, 0.17) * height
    gap = 0.05 * width
    column = (width - left - right - gap * (columns - 1)) / columns
    tiles: list[tuple[Image.Image, int, int]] = []
    figures_left = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    initials_left = int(rng.choice([0, 1, 1, 2, 2, 3, 4]))

    def line(x0: float, x1: float, base: float) -> None:
        if style.printed:
            _print_line(pen, rng, x0, x1, base, font, ink)
        else:
            _script_line(pen, rng, x0, x1, base, xheight, ink)

    for index in range(columns):
        x0 = left + index * (column + gap)
        x1 = x0 + column
        y = top + pitch
        while y < bottom:
            event = rng.random()
            if figures_left and event < 0.06:
                lines = int(rng.integers(6, 17))
                fig_height = int(lines * pitch)
                if y + fig_height + pitch > bottom:
                    y += pitch
                    continue
                touching = rng.random() < style.touching
                spacing = 0 if touching else int(pitch * rng.uniform(0.5, 0.9))
                whole = rng.random() < 0.55 or column < 20 * pitch
                fig_width = int(column if whole else column * rng.uniform(0.45, 0.7))
                fx = int(x0 if whole or rng.random() < 0.5 else x1 - fig_width)
                fy = int(y - pitch + xheight * 1.2 + spacing) if not touching else int(y)
                kind = ornaments.FIGURE_KINDS[int(rng.integers(len(ornaments.FIGURE_KINDS)))]
                tile = ornaments.figure(rng, kind, fig_width, fig_height, pitch)
                tiles.append((tile, fx, fy))
                truths.append(
                    Truth(
                        "diagram" if kind in ("diagram", "drawing") else "illustration",
                        kind,
                        _drawn(tile, fx, fy),
                    )
                )
                figures_left -= 1
                if not whole:
                    side = (x0, fx - spacing - 2) if fx > x0 else (fx + fig_width + spacing + 2, x1)
                    for _ in range(lines + 1):
                        line(side[0], side[1], y)
                        y += pitch
                else:
                    y = fy + fig_height + spacing + (pitch if touching else pitch + xheight)
                    if touching:
                        y = fy + fig_height + xheight * 0.3 + pitch * 0.4
                continue
            if initials_left and event < 0.12:
                lines = int(rng.choice([2, 2, 3, 3, 4, 5, 6, 7]))
                size = int((lines - 1) * pitch + xheight)
                if y + lines * pitch > bottom:
                    y += pitch
                    continue
                kind = ornaments.INITIAL_KINDS[int(rng.integers(len(ornaments.INITIAL_KINDS)))]
                colours = {
                    "woodcut": ["black"],
                    "historiated": ["red", "blue", "green"],
                    "flourished": ["red", "blue"],
                }
                colour = ornaments.pick(rng, colours.get(kind, ["red", "blue", "gold", "black"]))
                tile = ornaments.initial(rng, kind, colour, size)
                ix, iy = int(x0), int(y - xheight)
                tiles.append((tile, ix, iy))
                truths.append(Truth("initial", f"{kind} {colour}", _drawn(tile, ix, iy)))
                initials_left -= 1
                for _ in range(lines):
                    line(ix + size + xheight, x1, y)
                    y += pitch
                continue
            end = x1 if rng.random() > 0.08 else x0 + column * rng.uniform(0.3, 0.8)
            line(x0, end, y)
            y += pitch * (1.6 if end < x1 else 1)
        if rng.random() < 0.3:  # faint ruling under every line
            for base in np.arange(top + pitch, bottom, pitch):
                pen.line((x0 - 4, base + 1, x1 + 4, base + 1), fill=(200, 185, 170), width=1)
        if rng.random() < 0.25:  # red rules framing the column
            rule = (190, 90, 80)
            for x in (x0 - 14, x0 - 8, x1 + 8, x1 + 14):
                pen.line((x, top - 6, x, bottom + 6), fill=rule, width=2)
            for yy in (top - 6, bottom + 6):
                pen.line((x0 - 14, yy, x1 + 14, yy), fill=rule, width=2)
    layer = np.asarray(text, np.float32) / 255
    for tile, x, y in tiles:
        h, w = tile.height, tile.width
        layer[y : y + h, x : x + w] *= np.asarray(tile, np.float32) / 255
    stain(rng, paper, style.worn)
    foxing(rng, paper, style.worn)
    if style.bleed:
        verso = Image.new("RGB", (width, height), "white")
        verso_pen = ImageDraw.Draw(verso)
        for base in np.arange(top + pitch, bottom, pitch):
            _script_line(verso_pen, rng, left, width - right, base, xheight, (0, 0, 0))
        bleed_through(paper, verso, style.bleed)
    paper *= layer
    lighting(rng, paper, gutter)
    return paper, truths


def _drawn(tile: Image.Image, x: int, y: int) -> Box:
    ink = np.asarray(tile).min(axis=2) < 215
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return (
        x + int(cols[0]),
        y + int(rows[0]),
        int(cols[-1] - cols[0] + 1),
        int(rows[-1] - rows[0] + 1),
    )
