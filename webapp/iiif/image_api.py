"""IIIF Image API 2 (level 1 and `w,h` sizes): parse a request and render the image."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image

from webapp.errors import UserError

PROFILE = "http://iiif.io/api/image/2/level1.json"
CONTEXT = "http://iiif.io/api/image/2/context.json"
SUPPORTS = ["sizeByWh", "sizeByW", "sizeByH", "sizeByPct", "regionByPx", "cors", "baseUriRedirect"]
MAX_SIDE = 10_000

_REGION = re.compile(r"(\d+),(\d+),(\d+),(\d+)")
_SIZE = re.compile(r"(\d*),(\d*)")
_PCT = re.compile(r"pct:(\d+(?:\.\d+)?)")


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


def parse_size(text: str, region: Box) -> tuple[int, int]:
    """`max`/`full`, `w,`, `,h`, `w,h` or `pct:n`; never larger than the region."""
    if text in {"max", "full"}:
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
    return w, h


def check_rotation_and_format(rotation: str, quality: str, fmt: str) -> None:
    if rotation != "0":
        raise InvalidImageRequest("Only rotation 0 is supported.")
    if quality not in {"default", "color"}:
        raise InvalidImageRequest("Only the 'default' and 'color' qualities are supported.")
    if fmt != "jpg":
        raise InvalidImageRequest("Only the jpg format is supported.")


def render(image: Image.Image, region: Box, size: tuple[int, int]) -> bytes:
    cropped = image.crop((region.x, region.y, region.x + region.w, region.y + region.h))
    if cropped.size != size:
        cropped = cropped.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    cropped.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def info(service_id: str, width: int, height: int) -> dict[str, object]:
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
                "maxWidth": MAX_SIDE,
            },
        ],
    }
