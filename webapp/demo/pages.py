"""Draw one manuscript page: parchment, ruled text, initials, illustrations and diagrams."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from webapp.demo.diagrams import DiagramTemplate, Placement, draw, extent

Box = tuple[int, int, int, int]  # x, y, w, h
Colour = tuple[int, int, int]

INKS: tuple[Colour, ...] = ((52, 36, 24), (30, 26, 24), (72, 46, 30), (120, 34, 24))
PIGMENTS: tuple[Colour, ...] = (
    (170, 45, 30),
    (38, 70, 140),
    (40, 110, 70),
    (190, 140, 40),
    (120, 60, 110),
)
GAP = 24


@dataclass
class Region:
    kind: str  # illustration, diagram or initial
    box: Box
    diagram: str | None = None


@dataclass
class PagePlan:
    width: int
    height: int
    figures: list[tuple[str, DiagramTemplate | None]] = field(default_factory=list)
    initials: int = 1


def _parchment(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    base = np.array([234, 220, 190], dtype=np.float32) + rng.normal(0, 6, 3)
    # Low-frequency blotches: a coarse random field blown up to page size.
    coarse = rng.normal(0, 1, (height // 100 + 2, width // 100 + 2)).astype(np.float32)
    blotch = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    page: np.ndarray = base[None, None, :] + 7 * blotch[..., None]
    # Darker edges: exp(-min(dx, dy)) is the larger of the two separable fades.
    fade_x = np.exp(-np.minimum(np.arange(width), np.arange(width)[::-1]) / 40).astype(np.float32)
    fade_y = np.exp(-np.minimum(np.arange(height), np.arange(height)[::-1]) / 40).astype(np.float32)
    page -= 25 * np.maximum.outer(fade_y, fade_x)[..., None]
    return page


def _free(box: tuple[int, int, int, int], taken: list[Box]) -> bool:
    x0, y0, x1, y1 = box
    return all(
        x1 + GAP <= x or x + w + GAP <= x0 or y1 + GAP <= y or y + h + GAP <= y0
        for x, y, w, h in taken
    )


def _word(
    draw_: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    x: float,
    base: float,
    xheight: float,
    ink: Colour,
    max_x: float,
) -> float:
    for _ in range(int(rng.integers(2, 9))):
        step = xheight * float(rng.uniform(0.45, 0.8))
        if x + step > max_x:
            break
        shape = rng.random()
        top = base - xheight
        if shape < 0.15:
            top = base - xheight * 1.9
        bottom = base + (xheight * 0.8 if 0.15 <= shape < 0.25 else 0)
        if 0.5 <= shape < 0.7:
            draw_.ellipse((x, base - xheight, x + step * 0.9, base), outline=ink, width=2)
        else:
            draw_.line(((x + step * 0.3, top), (x + step * 0.3, bottom)), fill=ink, width=2)
            draw_.line(((x, top + 2), (x + step * 0.6, top)), fill=ink, width=2)
        x += step
    return x


def _free_spans(
    start: int, end: int, top: float, bottom: float, taken: list[Box]
) -> list[tuple[int, int]]:
    """Parts of [start, end) on a text line from top to bottom that no figure covers."""
    spans = [(start, end)]
    half = GAP // 2
    for x, y, w, h in taken:
        if y - half < bottom and top < y + h + half:
            spans = [
                piece
                for a, b in spans
                for piece in ((a, min(b, x - half)), (max(a, x + w + half), b))
                if piece[1] > piece[0]
            ]
    return spans


def _text(
    draw_: ImageDraw.ImageDraw,
    rng: np.random.Generator,
    block: Box,
    line: int,
    taken: list[Box],
    ink: Colour,
) -> None:
    bx, by, bw, bh = block
    xheight = line * 0.36
    for y in range(by + line, by + bh, line):
        if rng.random() < 0.06:  # a paragraph break
            continue
        end = bx + bw - (int(rng.integers(0, bw // 2)) if rng.random() < 0.1 else 0)
        for start, stop in _free_spans(bx, end, y - 2 * xheight, y + xheight, taken):
            x = float(start)
            while stop - x > 3 * xheight:
                x = _word(draw_, rng, x, y, xheight, ink, stop)
                x += xheight * float(rng.uniform(0.7, 1.3))


def _initial(draw_: ImageDraw.ImageDraw, rng: np.random.Generator, box: Box) -> None:
    x, y, w, h = box
    colour, other = rng.choice(len(PIGMENTS), 2, replace=False)
    draw_.rectangle(
        (x, y, x + w - 1, y + h - 1), fill=PIGMENTS[colour], outline=(60, 40, 20), width=2
    )
    inset = max(4, w // 10)
    draw_.rectangle(
        (x + inset, y + inset, x + w - 1 - inset, y + h - 1 - inset),
        outline=PIGMENTS[other],
        width=2,
    )
    letter = "ABCDEFGHILMNOPQRSTV"[int(rng.integers(0, 19))]
    font = ImageFont.load_default(size=int(h * 0.7))
    draw_.text((x + w / 2, y + h / 2), letter, fill=(245, 225, 160), font=font, anchor="mm")
    for _ in range(3):
        cx, cy = x + float(rng.uniform(inset, w - inset)), y + float(rng.uniform(inset, h - inset))
        r = float(rng.uniform(2, inset))
        draw_.ellipse((cx - r, cy - r, cx + r, cy + r), fill=PIGMENTS[other])


def _illustration(draw_: ImageDraw.ImageDraw, rng: np.random.Generator, box: Box) -> None:
    x, y, w, h = box
    frame = PIGMENTS[int(rng.integers(0, len(PIGMENTS)))]
    wash = tuple(int(c) for c in rng.integers(150, 215, 3))
    draw_.rectangle((x, y, x + w - 1, y + h - 1), fill=frame)
    draw_.rectangle((x + 6, y + 6, x + w - 7, y + h - 7), fill=wash, outline=(50, 35, 25), width=2)
    ground = y + int(h * rng.uniform(0.6, 0.8))
    green = PIGMENTS[2]
    hills = (
        [(x + 8, y + h - 8)]
        + [(x + 8 + k * (w - 16) // 6, ground - int(rng.integers(0, h // 6))) for k in range(7)]
        + [(x + w - 8, y + h - 8)]
    )
    draw_.polygon(hills, fill=green, outline=(50, 35, 25))
    for _ in range(int(rng.integers(1, 4))):
        fx = x + int(rng.uniform(0.15, 0.85) * w)
        size = int(h * rng.uniform(0.12, 0.22))
        robe = PIGMENTS[int(rng.integers(0, len(PIGMENTS)))]
        draw_.polygon(
            [(fx, ground - 2 * size), (fx - size // 2, ground), (fx + size // 2, ground)],
            fill=robe,
            outline=(40, 30, 20),
        )
        draw_.ellipse(
            (fx - size // 4, ground - 2 * size - size // 2, fx + size // 4, ground - 2 * size),
            fill=(230, 195, 160),
            outline=(40, 30, 20),
        )
    if rng.random() < 0.6:
        tx = x + int(rng.uniform(0.1, 0.9) * w)
        crown = int(h * 0.12)
        draw_.rectangle((tx - 4, ground - 3 * crown, tx + 4, ground), fill=(90, 60, 30))
        draw_.ellipse(
            (tx - crown, ground - 4 * crown, tx + crown, ground - 2 * crown),
            fill=green,
            outline=(40, 30, 20),
        )


def render_page(rng: np.random.Generator, plan: PagePlan) -> tuple[Image.Image, list[Region]]:
    width, height = plan.width, plan.height
    left, right = int(width * rng.uniform(0.09, 0.12)), int(width * rng.uniform(0.12, 0.16))
    top, bottom = int(height * rng.uniform(0.07, 0.09)), int(height * rng.uniform(0.11, 0.14))
    block: Box = (left, top, width - left - right, height - top - bottom)
    line = int(rng.integers(26, 34))
    ink = INKS[int(rng.integers(0, len(INKS)))]
    regions: list[Region] = []
    taken: list[Box] = []
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)

    for kind, template in plan.figures:
        for _ in range(60):
            if kind == "diagram" and template is not None:
                radius = float(rng.uniform(0.16, 0.3)) * block[2]
                placement = Placement(
                    (
                        float(rng.uniform(block[0], block[0] + block[2])),
                        float(rng.uniform(block[1], block[1] + block[3])),
                    ),
                    radius,
                    float(rng.uniform(-np.pi / 6, np.pi / 6)),
                    bool(rng.random() < 0.15),
                )
                stroke = int(rng.integers(2, 5))
                x0, y0, x1, y1 = extent(template, placement, stroke)
                candidate = (int(x0), int(y0), int(x1) + 1, int(y1) + 1)
            else:
                w = int(block[2] * rng.uniform(0.45, 0.95))
                h = int(w * rng.uniform(0.55, 0.9))
                x = int(rng.uniform(block[0], block[0] + block[2] - w + 1))
                y = int(rng.uniform(block[1], max(block[1] + 1, block[1] + block[3] - h)))
                candidate = (x, y, x + w, y + h)
            inside = (
                candidate[0] >= block[0] - 10
                and candidate[1] >= block[1] - 10
                and candidate[2] <= block[0] + block[2] + 10
                and candidate[3] <= block[1] + block[3] + 10
            )
            if inside and _free(candidate, taken):
                box = (
                    candidate[0],
                    candidate[1],
                    candidate[2] - candidate[0],
                    candidate[3] - candidate[1],
                )
                if kind == "diagram" and template is not None:
                    draw(
                        pen,
                        template,
                        placement,
                        INKS[int(rng.integers(0, len(INKS)))],
                        stroke,
                        PIGMENTS[int(rng.integers(0, len(PIGMENTS)))],
                    )
                    regions.append(Region("diagram", box, template.key))
                else:
                    _illustration(pen, rng, box)
                    regions.append(Region("illustration", box))
                taken.append(box)
                break

    for _ in range(plan.initials):
        size = line * int(rng.integers(2, 4)) - 6
        for _ in range(30):
            y = (
                block[1]
                + line * int(rng.integers(1, max(2, block[3] // line - 3)))
                - int(line * 0.5)
            )
            candidate = (block[0], y, block[0] + size, y + size)
            if _free(candidate, taken):
                box = (block[0], y, size, size)
                _initial(pen, rng, box)
                regions.append(Region("initial", box))
                taken.append(box)
                break

    _text(pen, rng, block, line, taken, ink)
    paper = _parchment(rng, width, height)
    page = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGBA")
    page = Image.alpha_composite(page, layer)
    noisy = np.asarray(page.convert("RGB"), dtype=np.float32)
    noisy += rng.normal(0, 5, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), regions
