"""Checks on images coming from outside (uploads, imported manifests)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from webapp.errors import UserError

ACCEPTED_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "JPEG2000", "GIF"}
MAX_PIXELS = 150_000_000


def load_image(data: bytes, name: str) -> Image.Image:
    """Decode an image fully, refusing what is not one, an unknown format or a pixel bomb."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise UserError(f"{name}: {image.format} images are not accepted.")
            if image.width * image.height > MAX_PIXELS:
                raise UserError(f"{name}: the image is too large ({image.width}x{image.height}).")
            image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise UserError(f"{name} is not an image we can read.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{name} is a damaged or truncated image.") from exc
    return image.convert("RGB")
