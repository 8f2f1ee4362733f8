"""IIIF Image API 2 (level 1 and `w,h` sizes): parse a request and render the image.

Renditions are made by libvips (`pyvips`) from the page's pyramid (`webapp/pyramids.py`): the
smallest level the request allows, and only the tiles of its region, so a rendition of a
large page costs little time and memory; none exceeds `maxWidth`, `maxHeight` or `maxArea`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyvips

from webapp.errors import UserError

PROFILE = "http://iiif.io/api/image/2/level1.json"
CONTEXT = "http://iiif.io/api/image/2/context.json"
SUPPORTS = ["sizeByWh", "sizeByW", "sizeByH", "sizeByPct", "regionByPx", "cors", "baseUriRedirect"]
# Digits are bounded: a number past any image's size is refused, never overflows.
_REGION = re.compile(r"(\d{1,9}),(\d{1,9}),(\d{1,9}),(\d{1,9})")
_SIZE = re.compile(r"(\d{0,9}),(\d{0,9})")
_PCT = re.compile(r"pct:(\d{1,3}(?:\.\d{1,6})?)")


@dataclass(frozen=True)
class Limits:
    """The largest rendition served: `maxWidth`, `maxHeight`, `maxArea` of info.json."""

    width: int
    height: int
    area: int

    def fit(self, w: int, h: int) -> tuple[int, int]:
        """The largest size of this shape within the limits (what `max` means)."""
        scale = min(1.0, self.width / w, self.height / h, (self.area / (w * h)) ** 0.5)
        return max(1, int(w * scale)), max(1, int(h * scale))

    def check(self, w: int, h: int, text: str) -> None:
        if w > self.width or h > self.height or w * h > self.area:
            raise InvalidImageRequest(
                f"Size {text!r} is larger than this service serves ({self.width} wide, "
                f"{self.height} high, {self.area} pixels at most)."
            )


class InvalidImageRequest(UserError):
    pass


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


def parse_region(text: str, width: int, height: int) -> Box:
    """`full` or `x,y,w,h` in pixels, clipped to the image as the specification says."""
    if text == "full":
        return Box(0, 0, width, height)
    match = _REGION.fullmatch(text)
    if match is None:
        raise InvalidImageRequest(f"Region {text!r} is not 'full' or 'x,y,w,h' in pixels.")
    x, y, w, h = (int(part) for part in match.groups())
    if w == 0 or h == 0:
        raise InvalidImageRequest("A region must have a width and a height.")
    if x >= width or y >= height:
        raise InvalidImageRequest(f"Region {text!r} lies outside the {width}x{height} image.")
    return Box(x, y, min(w, width - x), min(h, height - y))


def parse_size(text: str, region: Box, limits: Limits) -> tuple[int, int]:
    """`max`, `full`, `w,`, `,h`, `w,h` or `pct:n`; never larger than the region nor the
    limits (`max` is the largest within them)."""
    if text == "max":
        return limits.fit(region.w, region.h)
    if text == "full":
        limits.check(region.w, region.h, text)
        return region.w, region.h
    if pct := _PCT.fullmatch(text):
        scale = float(pct[1]) / 100
        size = (round(region.w * scale), round(region.h * scale))
    elif match := _SIZE.fullmatch(text):
        w_text, h_text = match.groups()
        if not w_text and not h_text:
            raise InvalidImageRequest("A size needs a width, a height or both.")
        if w_text and h_text:
            size = (int(w_text), int(h_text))
        elif w_text:
            size = (int(w_text), round(region.h * int(w_text) / region.w))
        else:
            size = (round(region.w * int(h_text) / region.h), int(h_text))
    else:
        raise InvalidImageRequest(f"Size {text!r} is not 'max', 'w,', ',h', 'w,h' or 'pct:n'.")
    w, h = size
    if w < 1 or h < 1:
        raise InvalidImageRequest(f"Size {text!r} gives an empty image.")
    if w > region.w or h > region.h:
        raise InvalidImageRequest(
            f"Size {text!r} is larger than the {region.w}x{region.h} region; upscaling is not "
            "supported."
        )
    limits.check(w, h, text)
    return w, h


def check_rotation_and_format(rotation: str, quality: str, fmt: str) -> None:
    if rotation != "0":
        raise InvalidImageRequest("Only rotation 0 is supported.")
    if quality not in {"default", "color"}:
        raise InvalidImageRequest("Only the 'default' and 'color' qualities are supported.")
    if fmt != "jpg":
        raise InvalidImageRequest("Only the jpg format is supported.")


def _level(region: Box, size: tuple[int, int], levels: int) -> int:
    """The smallest pyramid level (level n is 2**n times smaller) still giving `size`."""
    level = 0
    while (
        level + 1 < levels
        and region.w >> (level + 1) >= size[0]
        and region.h >> (level + 1) >= size[1]
    ):
        level += 1
    return level


def render(pyramid: Path, region: Box, size: tuple[int, int]) -> bytes:
    """A JPEG of `region` of a page, at `size`, from the page's pyramid."""
    levels = int(pyvips.Image.new_from_file(str(pyramid)).get("n-pages"))
    level = _level(region, size, levels)
    image = pyvips.Image.new_from_file(str(pyramid), page=level)
    shrink = 2**level
    x, y = region.x // shrink, region.y // shrink
    w = max(1, min(region.w // shrink, image.width - x))
    h = max(1, min(region.h // shrink, image.height - y))
    image = image.crop(x, y, w, h)
    if (w, h) != size:
        image = image.resize(size[0] / w, vscale=size[1] / h, kernel="lanczos3")
        # Rounding may leave a pixel more or less: the size asked for is the size given.
        image = image.gravity("centre", size[0], size[1], extend="copy")
    if image.bands == 1:
        image = image.colourspace("srgb")
    return bytes(image.jpegsave_buffer(Q=85, strip=True))


def info(service_id: str, width: int, height: int, limits: Limits) -> dict[str, object]:
    return {
        "@context": CONTEXT,
        "@id": service_id,
        "protocol": "http://iiif.io/api/image",
        "width": width,
        "height": height,
        "profile": [
            PROFILE,
            {
                "formats": ["jpg"],
                "qualities": ["default", "color"],
                "supports": SUPPORTS,
                "maxWidth": limits.width,
                "maxHeight": limits.height,
                "maxArea": limits.area,
            },
        ],
    }
