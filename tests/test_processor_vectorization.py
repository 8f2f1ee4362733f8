"""The reference processor's vectorization: strokes to SVG, with circles and lines found."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from PIL import Image, ImageDraw

from processor.vectorization import to_svg, vectorize

SVG = "{http://www.w3.org/2000/svg}"


def _drawing() -> Image.Image:
    image = Image.new("RGB", (300, 300), (236, 224, 200))
    pen = ImageDraw.Draw(image)
    pen.ellipse((50, 50, 250, 250), outline=(60, 40, 30), width=3)
    pen.ellipse((120, 120, 180, 180), outline=(60, 40, 30), width=3)
    pen.line((40, 280, 280, 280), fill=(60, 40, 30), width=3)
    pen.polygon([(15, 15), (45, 10), (30, 40)], outline=(60, 40, 30))
    return image


def test_concentric_circles_and_a_straight_line_are_found() -> None:
    strokes = vectorize(_drawing())
    radii = sorted(round(r) for _, _, r in strokes.circles)
    assert len(radii) == 2
    assert abs(radii[0] - 29) <= 2
    assert abs(radii[1] - 99) <= 2
    assert all(abs(x - 150) <= 2 and abs(y - 150) <= 2 for x, y, _ in strokes.circles)
    (start, end), *_ = sorted(strokes.lines, key=lambda line: -abs(line[1][0] - line[0][0]))
    assert abs(start[1] - 280) <= 2
    assert abs(end[1] - 280) <= 2
    assert abs(abs(end[0] - start[0]) - 240) <= 6
    assert strokes.paths  # the triangle, which is neither
    assert 2 <= strokes.pen <= 4


def test_the_svg_is_well_formed_and_sized_like_the_image() -> None:
    svg = to_svg(vectorize(_drawing()), title="wit1_img1_0001_10,20,300,300 <&>")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 300 300"
    assert len(root.findall(f"{SVG}circle")) == 2
    assert root.findall(f"{SVG}line")
    assert root.findall(f"{SVG}path")


def test_an_empty_region_gives_an_empty_drawing() -> None:
    strokes = vectorize(Image.new("RGB", (120, 80), "white"))
    assert (strokes.circles, strokes.lines, strokes.paths) == ([], [], [])
    assert ET.fromstring(to_svg(strokes)).get("width") == "120"
