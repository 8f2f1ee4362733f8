"""The reference processor's region finder, on pages with known answers."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from processor.page_area import page_mask
from processor.regions import FoundRegion, find_regions, line_pitch
from webapp.demo.corpus import plan_corpus, render_witness


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _box(region: FoundRegion) -> tuple[int, int, int, int]:
    return region.x, region.y, region.w, region.h


def _as_scan(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return Image.open(buffer)


def test_figures_and_initials_of_generated_pages_are_found() -> None:
    """Matched at IoU >= 0.5, one to one; the generator is only the source of known answers."""
    witnesses, _ = plan_corpus(5, pages_per_witness=3)
    counts = {"figure": [0, 0, 0], "initial": [0, 0, 0]}  # found, true, matched
    for index, witness in enumerate(witnesses):
        for page in render_witness(5, index, witness):
            found = find_regions(_as_scan(page.image))
            for group, kinds in (("figure", {"illustration", "diagram"}), ("initial", {"initial"})):
                truth = [r.box for r in page.regions if r.kind in kinds]
                guesses = sorted((f for f in found if f.kind in kinds), key=lambda f: -f.confidence)
                unused = list(truth)
                for guess in guesses:
                    match = next((t for t in unused if _iou(_box(guess), t) >= 0.5), None)
                    if match is not None:
                        unused.remove(match)
                        counts[group][2] += 1
                counts[group][0] += len(guesses)
                counts[group][1] += len(truth)
    for group, (found_count, true_count, matched) in counts.items():
        assert true_count > 0, group
        assert matched / found_count >= 0.8, (group, counts)  # precision
        assert matched / true_count >= 0.8, (group, counts)  # recall


def test_a_drawing_in_black_ink_on_white_paper_is_a_diagram() -> None:
    """Nothing of the demo's parchment, pigments or sizes: pixels and proportions only."""
    page = Image.new("RGB", (1200, 1600), "white")
    pen = ImageDraw.Draw(page)
    for row in range(30):
        y = 100 + row * 40
        if 700 <= y <= 1150:
            continue
        for word in range(12):
            x = 100 + word * 80
            pen.rectangle((x, y, x + 55, y + 14), fill="black")
    pen.ellipse((400, 720, 800, 1120), outline="black", width=4)
    pen.line((400, 920, 800, 920), fill="black", width=4)
    pen.line((600, 720, 600, 1120), fill="black", width=4)
    found = find_regions(_as_scan(page))
    figures = [f for f in found if f.kind != "initial"]
    assert len(figures) == 1
    assert figures[0].kind == "diagram"
    assert _iou(_box(figures[0]), (398, 718, 404, 404)) > 0.9


def test_a_blank_page_has_no_regions() -> None:
    assert find_regions(Image.new("RGB", (800, 1100), (240, 230, 210))) == []


# Scenes drawn here, apart from any generator: what a camera sees around real pages.
PAPER = (236, 228, 210)
INK = (40, 32, 28)
Box = tuple[int, int, int, int]


def _text(pen: ImageDraw.ImageDraw, area: Box, pitch: int, clear: tuple[Box, ...] = ()) -> None:
    """Lines of pen strokes in the area (x0, y0, x1, y1), around the boxes (x, y, w, h) kept
    clear; an ascender now and then."""
    x0, y0, x1, y1 = area
    xheight = max(3, int(pitch * 0.42))
    for base in range(y0 + pitch, y1, pitch):
        for x in range(x0, x1, max(2, xheight // 2)):
            if (x // xheight) % 6 == 5 or any(
                bx - 6 <= x <= bx + bw + 6 and by - 6 <= base and base - 2 * xheight <= by + bh + 6
                for bx, by, bw, bh in clear
            ):
                continue
            top = base - xheight * (2 if x % 13 == 0 else 1)
            pen.line((x, top, x, base), fill=INK, width=max(1, xheight // 4))


def _woodcut(page: Image.Image, box: Box) -> None:
    """A framed, hatched cut with a solid black mass."""
    x, y, w, h = box
    cut = Image.new("RGB", (w, h), PAPER)
    pen = ImageDraw.Draw(cut)
    for offset in range(0, w + h, 6):
        pen.line((offset, 0, offset - h, h), fill=INK, width=1)
    pen.ellipse((w // 4, h // 4, w // 2, h // 2), fill=INK)
    pen.rectangle((0, 0, w - 1, h - 1), outline=INK, width=5)
    page.paste(cut, (x, y))


def _letter(
    page: Image.Image, box: Box, ink: tuple[int, int, int], ground: tuple[int, int, int] | None
) -> None:
    """An initial: a letter in `ink`, on a block of `ground` when there is one."""
    x, y, w, h = box
    pen = ImageDraw.Draw(page)
    if ground:
        pen.rectangle((x, y, x + w - 1, y + h - 1), fill=ground)
    font = ImageFont.load_default(size=int(h * (0.9 if ground else 1.25)))
    pen.text(
        (x + w / 2, y + h / 2),
        "D",
        font=font,
        fill=ink,
        anchor="mm",
        stroke_width=h // 16,
        stroke_fill=ink,
    )


def _page(width: int, height: int) -> Image.Image:
    return Image.new("RGB", (width, height), PAPER)


def _on_bed(page: Image.Image) -> tuple[Image.Image, int, int]:
    """The page on a dark bed, a colour chart beside it and a ruler under it; and where the
    page went."""
    left, top = 260, 90
    bed = Image.new("RGB", (page.width + left + 90, page.height + top + 150), (34, 33, 36))
    bed.paste(page, (left, top))
    pen = ImageDraw.Draw(bed)
    colours = [
        (115, 82, 68),
        (194, 150, 130),
        (98, 122, 157),
        (214, 126, 44),
        (243, 243, 242),
        (175, 54, 60),
        (70, 148, 73),
        (231, 199, 31),
        (8, 133, 161),
        (160, 160, 160),
        (52, 52, 52),
        (200, 200, 200),
    ]
    for index, colour in enumerate(colours):
        cx, cy = 40 + (index % 2) * 90, 200 + (index // 2) * 90
        pen.rectangle((cx, cy, cx + 80, cy + 80), fill=colour)
    ruler_top = bed.height - 100
    pen.rectangle((left, ruler_top, bed.width - 90, ruler_top + 60), fill=(238, 236, 230))
    for x in range(left + 10, bed.width - 90, 12):
        pen.line((x, ruler_top, x, ruler_top + 20), fill=(20, 20, 20), width=2)
    return bed, left, top


def _moved(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2], box[3]


def test_the_page_is_found_on_a_scanner_bed_and_nothing_around_it_is_a_region() -> None:
    page = _page(1000, 1400)
    figure, initial = (150, 500, 600, 380), (150, 1000, 110, 110)
    _woodcut(page, figure)
    _letter(page, initial, (250, 246, 240), (40, 66, 150))
    _text(ImageDraw.Draw(page), (150, 120, 850, 1300), 36, (figure, initial))
    scan, dx, dy = _on_bed(page)

    inside = page_mask(np.asarray(scan.convert("L"), dtype=np.float32))
    assert inside[dy + 700, dx + 500]
    assert not inside[250, 100]  # the colour chart
    assert not inside[-70, dx + 300]  # the ruler
    found = find_regions(_as_scan(scan))
    figures = [f for f in found if f.kind != "initial"]
    initials = [f for f in found if f.kind == "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), _moved(figure, dx, dy)) > 0.85
    assert len(initials) == 1
    assert _iou(_box(initials[0]), _moved(initial, dx, dy)) > 0.7
    for region in found:
        assert dx <= region.x <= region.x + region.w <= dx + page.width
        assert dy <= region.y <= region.y + region.h <= dy + page.height


def test_dense_script_with_ruling_specks_and_a_framed_column_has_no_figure() -> None:
    """What made whole pages into word boxes, or the column into one figure: foxing specks, faint
    ruling under every line, red rules around the column."""
    page = _page(1100, 1500)
    pen = ImageDraw.Draw(page)
    _text(pen, (140, 110, 960, 1380), 18)
    for base in range(128, 1380, 18):
        pen.line((136, base + 1, 964, base + 1), fill=(196, 180, 164), width=1)
    for x in (120, 128, 972, 980):
        pen.line((x, 100, x, 1392), fill=(190, 80, 70), width=2)
    for y in (100, 1392):
        pen.line((120, y, 980, y), fill=(190, 80, 70), width=2)
    rng = np.random.default_rng(3)
    for x, y in rng.integers((0, 0), (1100, 1500), (600, 2)):
        radius = int(rng.integers(1, 3))
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(150, 110, 80))

    assert [f for f in find_regions(_as_scan(page)) if f.kind != "initial"] == []


def test_a_figure_framed_with_its_column_is_found_and_not_the_frame() -> None:
    page = _page(1100, 1500)
    pen = ImageDraw.Draw(page)
    figure = (160, 600, 700, 360)
    _woodcut(page, figure)
    _text(pen, (160, 120, 940, 1380), 30, (figure,))
    for x in (130, 138, 962, 970):
        pen.line((x, 100, x, 1400), fill=(190, 80, 70), width=2)
    for y in (100, 1400):
        pen.line((130, y, 970, y), fill=(190, 80, 70), width=2)

    figures = [f for f in find_regions(_as_scan(page)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.85


def test_a_figure_with_script_right_against_it_is_found_whole() -> None:
    """Text lines run up to the cut on its right and touch it above and below."""
    page = _page(1100, 1500)
    figure = (150, 500, 500, 420)
    _text(ImageDraw.Draw(page), (150, 120, 950, 1380), 30)
    _woodcut(page, figure)

    figures = [f for f in find_regions(_as_scan(page)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.8


def test_initials_of_every_colour_with_and_without_a_ground_are_found() -> None:
    page = _page(1100, 1600)
    kinds = [
        ((170, 40, 30), None, 2),  # a red lombard, two lines tall
        ((40, 66, 150), None, 4),  # a blue one, four lines
        ((30, 26, 24), None, 3),  # a black one
        ((250, 246, 240), (28, 24, 22), 5),  # a woodcut: white on black
        ((196, 152, 58), (150, 36, 30), 3),  # gold on a red block
    ]
    pitch, boxes = 34, []
    y = 140
    for ink, ground, lines in kinds:
        size = lines * pitch - pitch // 3
        box = (150, y, size, size)
        _letter(page, box, ink, ground)
        boxes.append(box)
        y += (lines + 2) * pitch
    _text(ImageDraw.Draw(page), (150, 110, 950, 1500), pitch, tuple(boxes))

    initials = [f for f in find_regions(_as_scan(page)) if f.kind == "initial"]
    for box in boxes:
        assert max((_iou(_box(f), box) for f in initials), default=0) > 0.5, box


def test_the_line_pitch_is_read_on_a_page_turned_a_little() -> None:
    page = _page(1000, 1300)
    _text(ImageDraw.Draw(page), (100, 100, 900, 1200), 31)
    turned = page.rotate(2.5, Image.Resampling.BICUBIC, fillcolor=PAPER)
    ink = np.asarray(turned.convert("L"), dtype=np.float32) < 128
    assert abs(line_pitch(ink) - 31) <= 1


def _wash(page: Image.Image, box: Box, darker: float) -> None:
    """A grisaille: a grey wash a little darker than the paper, a frame and contours too faint
    to be ink, and a darker ground."""
    x, y, w, h = box
    area = np.asarray(page, dtype=np.float32)[y : y + h, x : x + w].copy()
    area -= darker
    area[int(h * 0.7) :] -= darker
    tile = Image.fromarray(np.clip(area, 0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(tile)
    pen.ellipse((w // 5, h // 5, w // 2, h // 2), outline=(196, 190, 184), width=1)
    pen.rectangle((0, 0, w - 1, h - 1), outline=(196, 190, 184), width=1)
    page.paste(tile, (x, y))


def test_a_faint_grisaille_is_found_and_a_stain_of_its_tone_is_not() -> None:
    """The wash is as faint as the stain; the straight edges of its frame tell it apart."""
    page = _page(1100, 1500)
    figure = (160, 560, 700, 380)
    grid = np.mgrid[0:1500, 0:1100]
    stain = np.hypot(grid[0] - 1200, grid[1] - 700) < 150
    paper = np.asarray(page, dtype=np.float32)
    paper[stain] -= 18
    page = Image.fromarray(paper.astype(np.uint8))
    _wash(page, figure, 16)
    _text(ImageDraw.Draw(page), (160, 120, 940, 1400), 30, (figure,))

    figures = [f for f in find_regions(_as_scan(page)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.85


def test_a_stippled_plate_is_found_whole_with_its_light_parts() -> None:
    """Dots only, dense at the plate's edges and in a few patches, sparse between."""
    page = _page(1100, 1500)
    figure = (160, 540, 720, 360)
    x, y, w, h = figure
    rng = np.random.default_rng(4)
    density = np.full((h, w), 0.015)
    density[:3], density[-3:], density[:, :3], density[:, -3:] = 0.3, 0.3, 0.3, 0.3
    density[60:160, 80:300] = 0.05
    dots = np.argwhere(rng.random((h, w)) < density)
    pen = ImageDraw.Draw(page)
    for dy, dx in dots:
        pen.rectangle((x + dx - 1, y + dy - 1, x + dx + 1, y + dy + 1), fill=INK)
    _text(pen, (160, 120, 940, 1400), 30, (figure,))

    figures = [f for f in find_regions(_as_scan(page)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.85


def test_a_photo_against_a_dark_edge_of_the_page_stays_on_the_page() -> None:
    """The binding's shadow darkens the left edge and the photo reaches into it: the page is
    still the whole leaf, the photo on it."""
    page = _page(1100, 1500)
    figure = (60, 500, 600, 360)
    rng = np.random.default_rng(5)
    shades = rng.normal(0, 1, (12, 16)).astype(np.float32)
    smooth = np.asarray(Image.fromarray(shades).resize(figure[2:], Image.Resampling.BICUBIC))
    photo = np.clip(120 + 60 * smooth, 30, 230).astype(np.uint8)
    page.paste(Image.fromarray(photo).convert("RGB"), figure[:2])
    _text(ImageDraw.Draw(page), (160, 120, 940, 1400), 30, (figure,))
    paper = np.asarray(page, dtype=np.float32)
    paper *= (1 - 0.6 * np.exp(-np.arange(1100) / 70))[None, :, None]
    scan, dx, dy = _on_bed(Image.fromarray(paper.astype(np.uint8)))

    assert page_mask(np.asarray(scan, dtype=np.float32))[dy + 680, dx + 80]
    figures = [f for f in find_regions(_as_scan(scan)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), _moved(figure, dx, dy)) > 0.85


def test_a_hair_line_drawing_on_a_large_opening_is_found() -> None:
    """Strokes one pixel wide on a scan larger than the finder's working size would be
    halved by a reduction; they are seen."""
    page = _page(2400, 1700)
    figure = (300, 500, 800, 400)
    pen = ImageDraw.Draw(page)
    rng = np.random.default_rng(6)
    x, y, w, h = figure
    for _ in range(10):
        points = [tuple(rng.uniform((x, y), (x + w, y + h))) for _ in range(5)]
        pen.line(points, fill=INK, width=1)
    pen.line((x, y, x + w, y), fill=INK, width=1)
    pen.line((x, y + h, x + w, y + h), fill=INK, width=1)
    _text(pen, (300, 120, 1100, 1600), 28, (figure,))
    _text(pen, (1300, 120, 2100, 1600), 28)

    figures = [f for f in find_regions(_as_scan(page)) if f.kind != "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.8


def test_a_small_woodcut_initial_in_dense_script_is_found() -> None:
    """White on black, under two lines tall, script running on its right; the letters of
    the script, however bold, are not initials."""
    page = _page(1000, 1300)
    pitch = 20
    box = (140, 300, 34, 34)
    x, y, w, h = box
    pen = ImageDraw.Draw(page)
    pen.rectangle((x, y, x + w - 1, y + h - 1), outline=INK, width=1)
    pen.rectangle((x + 3, y + 3, x + w - 4, y + h - 4), fill=INK)
    font = ImageFont.load_default(size=h - 4)
    centre = (x + w / 2, y + h / 2)
    pen.text(centre, "M", font=font, fill=PAPER, anchor="mm", stroke_width=1, stroke_fill=PAPER)
    _text(pen, (140, 100, 860, 1200), pitch, (box,))

    initials = [f for f in find_regions(_as_scan(page)) if f.kind == "initial"]
    assert len(initials) == 1
    assert _iou(_box(initials[0]), box) > 0.6


def test_fingers_holding_the_page_down_are_not_regions() -> None:
    """Two fingers reach from the bed over the page's right edge, a third over its foot."""
    page = _page(1000, 1400)
    figure = (150, 500, 600, 380)
    _woodcut(page, figure)
    _text(ImageDraw.Draw(page), (150, 120, 850, 1300), 36, (figure,))
    scan, dx, dy = _on_bed(page)
    pen = ImageDraw.Draw(scan)
    right, foot = dx + page.width, dy + page.height
    for top in (dy + 400, dy + 900):
        pen.rounded_rectangle(
            (right - 50, top, right + 80, top + 60), radius=30, fill=(214, 160, 128)
        )
        pen.ellipse((right - 46, top + 14, right - 10, top + 46), fill=(232, 206, 196))
    pen.rounded_rectangle(
        (dx + 500, foot - 45, dx + 560, foot + 90), radius=30, fill=(150, 100, 72)
    )

    found = find_regions(_as_scan(scan))
    assert len(found) == 1
    assert found[0].kind != "initial"
    assert _iou(_box(found[0]), _moved(figure, dx, dy)) > 0.85


def test_an_initial_beside_a_figures_corner_is_found_apart_and_the_script_stays_out() -> None:
    """A painted figure with script in a narrow column on its left; under that script, a red
    initial set a little apart from the figure's lower corner: both rows of ink run on across
    the gap, and neither may take in the other, nor the script above the initial."""
    page = _page(1000, 1400)
    pitch = 31
    figure = (296, 480, 460, 420)
    x, y, w, h = figure
    pen = ImageDraw.Draw(page)
    pen.rectangle((x, y, x + w - 1, y + h - 1), fill=(200, 200, 180), outline=(90, 40, 30), width=6)
    pen.rectangle((x + 6, y + h // 2, x + w - 7, y + h - 7), fill=(40, 110, 70))
    pen.ellipse((x + 140, y + 60, x + 240, y + 160), fill=(40, 110, 70), outline=INK)
    pen.polygon([(x + 300, y + 300), (x + 340, y + 120), (x + 380, y + 300)], fill=(170, 40, 40))
    initial = (180, y + h - 88, 88, 88)  # 28 pixels from the figure, under a pitch
    _letter(page, initial, (196, 152, 58), (150, 36, 30))
    _text(pen, (180, 100, 880, 1300), pitch, (figure, initial))

    found = find_regions(_as_scan(page))
    figures = [f for f in found if f.kind != "initial"]
    initials = [f for f in found if f.kind == "initial"]
    assert len(figures) == 1
    assert _iou(_box(figures[0]), figure) > 0.8
    assert max((_iou(_box(f), initial) for f in initials), default=0) > 0.5
