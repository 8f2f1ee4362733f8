"""Checks on images coming from outside (uploads, imported manifests)."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from webapp.errors import UserError

ACCEPTED_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "JPEG2000", "GIF"}


@contextmanager
def _readable(name: str) -> Iterator[None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses it from its header, before our own limit is asked: say it is too large.
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise UserError(
            _(
                "%(name)s is too large an image (%(pixels)s million pixels; the limit is "
                "%(limit)s million).",
                name=name,
                pixels=format(int(pixels[1]) / 1e6, ".0f") if pixels else "?",
                limit=format(current_app.config["MAX_IMAGE_PIXELS"] / 1e6, "g"),
            )
        ) from exc
    except UnidentifiedImageError as exc:
        raise UserError(_("%(name)s is not an image we can read.", name=name)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(_("%(name)s is a damaged or truncated image.", name=name)) from exc


def _checked(image: Image.Image, name: str) -> Image.Image:
    """An opened image, its header read and nothing decoded yet, if its format and size pass."""
    if image.format not in ACCEPTED_FORMATS:
        raise UserError(
            _("%(name)s: %(format)s images are not accepted.", name=name, format=image.format)
        )
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    if image.width * image.height > limit:
        raise UserError(
            _(
                "%(name)s is too large an image (%(width)s by %(height)s pixels; the limit is "
                "%(limit)s million).",
                name=name,
                width=image.width,
                height=image.height,
                limit=format(limit / 1e6, "g"),
            )
        )
    return image


def probe_image(path: Path, name: str) -> tuple[int, int]:
    """The size an image file says in its header, refusing what is not one, too large or cut
    short, without decoding it."""
    with _readable(name), Image.open(path) as image:
        size = _checked(image, name).size
        # Reads the file through (a truncated PNG fails here) without decoding its pixels.
        image.verify()
        return size


def load_image(data: bytes | Path, name: str) -> Image.Image:
    """Decode an image fully, refusing what is not one, an unknown format or a pixel bomb:
    the size is checked in its header before a pixel is decoded."""
    with _readable(name):
        image = _checked(Image.open(data if isinstance(data, Path) else io.BytesIO(data)), name)
        image.load()
    return image.convert("RGB")
