"""The reference processor's region finder, on pages with known answers."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from processor.regions import FoundRegion, find_regions
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
