"""Catalogue objects for tests, with real page images on disk."""

from __future__ import annotations

import io

from PIL import Image

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Series, Witness, Work
from webapp.extensions import db

QUADRANTS = ((200, 30, 30), (30, 160, 60), (40, 60, 200), (245, 245, 245))


def quadrant_image(width: int = 400, height: int = 300) -> Image.Image:
    """Four flat colours, so that any crop's expected colour is known."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    for index, colour in enumerate(QUADRANTS):
        x, y = (index % 2) * half_w, (index // 2) * half_h
        image.paste(
            colour,
            (
                x,
                y,
                x + (width - half_w if index % 2 else half_w),
                y + (height - half_h if index // 2 else half_h),
            ),
        )
    return image


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def image_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def make_witness(
    creator: User | None = None, siglum: str = "Paris, BnF, lat. 7399", **fields: object
) -> Witness:
    witness = Witness(siglum=siglum, created_by_id=creator.id if creator else None, **fields)
    db.session.add(witness)
    db.session.commit()
    return witness


def make_work(creator: User | None = None, title: str = "De sphaera") -> Work:
    work = Work(title=title, author="Sacrobosco", created_by_id=creator.id if creator else None)
    db.session.add(work)
    db.session.commit()
    return work


def make_series(creator: User | None = None, title: str = "Miscellanies") -> Series:
    series = Series(title=title, created_by_id=creator.id if creator else None)
    db.session.add(series)
    db.session.commit()
    return series


def make_digitization(
    witness: Witness,
    pages: int = 2,
    creator: User | None = None,
    size: tuple[int, int] = (400, 300),
) -> Digitization:
    digitization = Digitization(
        witness=witness,
        source="img",
        label="scan",
        pages_total=pages,
        pages_done=pages,
        created_by_id=creator.id if creator else None,
    )
    db.session.add(digitization)
    db.session.flush()
    for order in range(1, pages + 1):
        path, width, height = storage.save_page_image(digitization.id, order, quadrant_image(*size))
        db.session.add(
            Page(
                digitization_id=digitization.id, order=order, width=width, height=height, file=path
            )
        )
    db.session.commit()
    return digitization
