"""Whole scans: a page or an opening, cropped or lying on the scanner's bed beside a colour
chart and a ruler, turned a little, saved as JPEG — three tiers from clean to hard."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.scans.ornaments import pick
from bench.scans.pages import Style, Truth, render

# A colour checker's patches, then its greys.
CHART = (
    (115, 82, 68),
    (194, 150, 130),
    (98, 122, 157),
    (87, 108, 67),
    (133, 128, 177),
    (103, 189, 170),
    (214, 126, 44),
    (80, 91, 166),
    (193, 90, 99),
    (94, 60, 108),
    (157, 188, 64),
    (224, 163, 46),
    (56, 61, 150),
    (70, 148, 73),
    (175, 54, 60),
    (231, 199, 31),
    (187, 86, 149),
    (8, 133, 161),
    (243, 243, 242),
    (200, 200, 200),
    (160, 160, 160),
    (122, 122, 121),
    (85, 85, 85),
    (52, 52, 52),
)
SKINS = ((224, 172, 140), (198, 140, 104), (150, 100, 72), (236, 196, 170), (110, 72, 52))
TIERS = ("clean", "typical", "hard")


@dataclass(frozen=True)
class Scan:
    jpeg: bytes
    truths: list[Truth]
    tier: str
    setting: str  # page, page on bed, opening, opening on bed; held when fingers show

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.jpeg))


def _style(rng: np.random.Generator, tier: int) -> Style:
    dense = tier == 2 and rng.random() < 0.5
    return Style(
        pitch=rng.uniform(17, 22) if dense else rng.uniform(26, 44),
        printed=rng.random() < 0.4,
        worn=(0.1, 0.45, 0.85)[tier] * rng.uniform(0.6, 1.2),
        touching=(0.1, 0.3, 0.5)[tier],
        bleed=0.0 if rng.random() < (0.8, 0.5, 0.25)[tier] else rng.uniform(0.08, 0.1 + 0.1 * tier),
    )


def _bed(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    tone = rng.uniform(12, 70) + rng.normal(0, 4, 3)
    yy, xx = np.mgrid[0:height, 0:width]
    falloff = 1 - 0.3 * (((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2) * 2)
    bed = tone[None, None, :] * falloff[..., None] + rng.normal(0, 3, (height, width, 1))
    return np.asarray(bed, dtype=np.float32)


def _chart(rng: np.random.Generator, patch: int) -> Image.Image:
    columns = 6 if rng.random() < 0.5 else 12
    rows = len(CHART) // columns
    chart = Image.new(
        "RGB", (columns * patch + patch // 2, rows * patch + patch // 2), (20, 20, 20)
    )
    pen = ImageDraw.Draw(chart)
    for index, colour in enumerate(CHART):
        row, col = divmod(index, columns)
        x, y = patch // 4 + col * patch, patch // 4 + row * patch
        pen.rectangle((x + 2, y + 2, x + patch - 3, y + patch - 3), fill=colour)
    return chart


def _ruler(rng: np.random.Generator, length: int, thickness: int) -> Image.Image:
    ruler = Image.new(
        "RGB", (length, thickness), (236, 234, 228) if rng.random() < 0.6 else (230, 200, 60)
    )
    pen = ImageDraw.Draw(ruler)
    font = ImageFont.load_default(size=max(8, thickness // 3))
    step = max(6, length // 150)
    for index, x in enumerate(range(step, length - step, step)):
        tall = thickness * (0.55 if index % 10 == 0 else 0.35 if index % 5 == 0 else 0.2)
        pen.line((x, 0, x, tall), fill=(20, 20, 20), width=1)
        if index % 10 == 0:
            pen.text((x + 2, thickness * 0.6), str(index // 10), font=font, fill=(20, 20, 20))
    return ruler


def _place(canvas: np.ndarray, tile: Image.Image, x: int, y: int) -> None:
    h, w = tile.height, tile.width
    canvas[y : y + h, x : x + w] = np.asarray(tile, np.float32)[
        : canvas.shape[0] - y, : canvas.shape[1] - x
    ]


def _turn(
    page: np.ndarray, truths: list[Truth], angle: float
) -> tuple[Image.Image, Image.Image, list[Truth]]:
    """The page turned by `angle` degrees, its mask, and its truths' boxes around the turned
    corners."""
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    mask = Image.new("L", image.size, 255)
    turned = image.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    turned_mask = mask.rotate(angle, Image.Resampling.BILINEAR, expand=True)
    cx, cy = image.width / 2, image.height / 2
    ncx, ncy = turned.width / 2, turned.height / 2
    cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    moved = []
    for truth in truths:
        x, y, w, h = truth.box
        corners = np.array([(x, y), (x + w, y), (x, y + h), (x + w, y + h)], np.float64) - (cx, cy)
        xs = corners[:, 0] * cos + corners[:, 1] * sin + ncx
        ys = -corners[:, 0] * sin + corners[:, 1] * cos + ncy
        box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min()))
        moved.append(Truth(truth.kind, truth.style, box))
    return turned, turned_mask, moved


def _finger(rng: np.random.Generator, length: int, thickness: int) -> Image.Image:
    """A finger holding the page down, pointing right: skin shaded round, a paler nail at the
    tip, soft-edged (RGBA)."""
    yy, xx = np.mgrid[0:thickness, 0:length].astype(np.float32)
    radius = thickness / 2
    axis_x = np.clip(xx, radius, length - radius)
    distance = np.hypot(xx - axis_x, yy - radius) / radius
    skin = np.array(SKINS[int(rng.integers(len(SKINS)))], np.float32) + rng.normal(0, 6, 3)
    shade = 1 - 0.35 * distance[..., None] ** 2
    rgb = skin[None, None, :] * shade
    nail = (
        np.hypot((xx - (length - radius * 1.3)) / (radius * 0.9), (yy - radius) / (radius * 0.6))
    ) < 1
    rgb[nail] = rgb[nail] * 0.6 + np.array((236, 214, 206), np.float32) * 0.4
    alpha = np.clip((1 - distance) * radius / 1.5, 0, 1) * 255
    tile = np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)
    return Image.fromarray(tile, "RGBA")


def _hold(rng: np.random.Generator, image: Image.Image, leaf: tuple[int, int, int, int]) -> None:
    """A finger or two over the leaf's (x0, y0, x1, y1) outer edges, reaching into its
    margin, as when a reader holds a page flat on the bed."""
    x0, y0, x1, y1 = leaf
    width = x1 - x0
    for _ in range(int(rng.integers(1, 3))):
        thickness = int(width * rng.uniform(0.045, 0.07))
        reach = int(width * rng.uniform(0.03, 0.07))
        length = reach + int(width * rng.uniform(0.06, 0.12))
        finger = _finger(rng, length, thickness)
        side = pick(rng, ("left", "right", "bottom"))
        if side == "left":
            spot = (x0 + reach - length, int(rng.uniform(y0 + 0.2 * (y1 - y0), y1 - thickness)))
        elif side == "right":
            finger = finger.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            spot = (x1 - reach, int(rng.uniform(y0 + 0.2 * (y1 - y0), y1 - thickness)))
        else:
            finger = finger.rotate(90, expand=True)
            spot = (int(rng.uniform(x0, x1 - thickness)), y1 - reach)
        image.paste(finger, spot, finger)


def _shift(truths: list[Truth], dx: int, dy: int) -> list[Truth]:
    return [
        Truth(t.kind, t.style, (t.box[0] + dx, t.box[1] + dy, t.box[2], t.box[3])) for t in truths
    ]


def scan(seed: int, index: int) -> Scan:
    rng = np.random.default_rng([seed, index])
    tier = index % 3
    style = _style(rng, tier)
    width = int(rng.uniform(900, 1250))
    height = int(width * rng.uniform(1.32, 1.5))
    opening = rng.random() < 0.3
    on_bed = rng.random() < (0.15, 0.45, 0.6)[tier]
    if opening:
        left, left_truths = render(rng, width, height, style, "right")
        right, right_truths = render(rng, width, height, style, "left")
        page = np.concatenate([left, right], axis=1)
        truths = left_truths + _shift(right_truths, width, 0)
    else:
        page, truths = render(rng, width, height, style, "left" if rng.random() < 0.5 else "right")
    setting = ("opening" if opening else "page") + (" on bed" if on_bed else "")
    if on_bed:
        angle = rng.uniform(-2.5, 2.5) if tier else 0.0
        turned, mask, truths = _turn(page, truths, angle)
        margin = [int(rng.uniform(0.04, 0.12) * turned.width) for _ in range(4)]
        chart_side = int(rng.integers(4))
        patch = int(turned.width * rng.uniform(0.035, 0.05) / (2 if opening else 1))
        chart = _chart(rng, patch)
        margin[chart_side] = (
            max(margin[chart_side], chart.height + patch)
            if chart_side in (1, 3)
            else max(margin[chart_side], chart.width + patch)
        )
        ruler = _ruler(rng, int(turned.height * 0.8), max(24, patch))
        margin[(chart_side + 1) % 4] = max(margin[(chart_side + 1) % 4], ruler.height * 2)
        bed = _bed(rng, turned.width + margin[0] + margin[2], turned.height + margin[1] + margin[3])
        canvas = Image.fromarray(np.clip(bed, 0, 255).astype(np.uint8))
        canvas.paste(turned, (margin[0], margin[1]), mask)
        bed = np.asarray(canvas, np.float32).copy()
        truths = _shift(truths, margin[0], margin[1])
        spots = {
            0: (patch // 3, margin[1] + patch),
            1: (margin[0] + patch, patch // 3),
            2: (bed.shape[1] - chart.width - patch // 3, margin[1] + patch),
            3: (margin[0] + patch, bed.shape[0] - chart.height - patch // 3),
        }
        if chart_side in (0, 2) and chart.width > margin[chart_side]:
            chart = chart.rotate(90, expand=True)
        _place(bed, chart, *spots[chart_side])
        ruler_side = (chart_side + 1) % 4
        if ruler_side in (0, 2):
            ruler = ruler.rotate(90, expand=True)
            rx = ruler.width // 2 if ruler_side == 0 else bed.shape[1] - ruler.width * 3 // 2
            _place(bed, ruler, rx, margin[1] + turned.height // 10)
        else:
            ruler = ruler.resize((min(ruler.width, turned.width), ruler.height))
            ry = ruler.height // 2 if ruler_side == 1 else bed.shape[0] - ruler.height * 3 // 2
            _place(bed, ruler, margin[0] + turned.width // 10, ry)
        image = Image.fromarray(np.clip(bed, 0, 255).astype(np.uint8))
        # Fingers from a stream of their own: the rest of the scan stays as it was drawn.
        hands = np.random.default_rng([seed, index, 1])
        if hands.random() < (0.0, 0.3, 0.5)[tier]:
            leaf = (margin[0], margin[1], margin[0] + turned.width, margin[1] + turned.height)
            _hold(hands, image, leaf)
            setting += ", held"
    else:
        image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
        if rng.random() < 0.3:  # a dark strip where the scanner saw past the page
            strip = int(rng.uniform(0.01, 0.04) * image.width)
            framed = Image.new(
                "RGB",
                (image.width + strip, image.height + strip),
                tuple(int(v) for v in rng.uniform(10, 50, 3)),
            )
            framed.paste(image, (strip, strip) if rng.random() < 0.5 else (0, 0))
            if framed.getpixel((0, 0)) != image.getpixel((0, 0)):
                truths = _shift(truths, strip, strip)
            image = framed
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.uniform(*((85, 95), (75, 90), (60, 85))[tier])))
    return Scan(buffer.getvalue(), truths, TIERS[tier], setting)


def scans(seed: int, count: int) -> Iterator[Scan]:
    for index in range(count):
        yield scan(seed, index)
