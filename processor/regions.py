"""Find illustrations, diagrams and decorated initials on a page image.

Classical image processing, no model. The page is found first and what lies around it
ignored. Ink is what is darker than the support or coloured. Every size is measured in the
page's own line pitch, read from the rhythm of its text lines. Text is told from figures by
that rhythm: a block of script has empty bands between its lines, a figure has none; a
stroke drawing is one large connected piece of ink whose rows do not beat at the pitch; a
stippled picture is more specks than strokes, with no rhythm either. Figures of tone rather
than ink (a grisaille's wash, a photograph) are found as panels (`processor.panels`). A scan
up to WORKING_SIZE is looked at whole: a reduction would halve a hair-line's contrast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from processor.grid import reduced
from processor.morphology import pieces, running_max, running_min
from processor.page_area import page_mask
from processor.panels import panels

# Ink is this much darker than the support (on 0 to 255), or this far from its hue.
DARKER = 45.0
CHROMA = 35.0
BLEED_THROUGH = 80.0  # the darkest the other side's script shows through
SUPPORT_WINDOW = 15  # samples, one in 8 pixels: the support is the paper over 120 pixels
CROP_MARGIN = 120  # pixels kept around the page's box: the support's window, filled as paper
CROP_GRID = 120  # the box's corner lies on this grid
CROP_WHEN = 0.8  # the page's box is cut out when it covers less than this share of the scan
WORKING_SIZE = 2600  # the long side, in pixels, the finder looks at
FIGURE_LINES = 3.5  # a figure spans more than this many line pitches, each way
INITIAL_LINES = (0.9, 8.0)
DENSE = 0.1  # ink over a few pitches of every row of a figure, at least
LIGHT = 0.45  # of DENSE, across a wider window: the light side of a figure
GROWTH = 4.0  # a figure's dense part grows to this many times its area at most
PITCH_STRETCH = 400  # rows: the pitch is read on stretches this long
SPECKLED = 0.05  # the share of a stippled area that is specks, at least
SOLID_BLOCK = 0.45  # a woodcut initial's share of ink, at least
TEXT_BEAT = 0.35  # rows beating at the line pitch this strongly are script


@dataclass(frozen=True)
class FoundRegion:
    kind: str  # illustration, diagram or initial
    x: int
    y: int
    w: int
    h: int
    confidence: float


Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def _support(rgb: np.ndarray) -> list[np.ndarray]:
    """The support's colour around each pixel, channel by channel: the brightest tone over a
    window wider than any word or initial (SUPPORT_WINDOW samples, one in 8 pixels each way),
    read on a grid a third of the window apart and spread smoothly between."""
    height, width = rgb.shape[:2]
    small = rgb[::8, ::8]
    half = SUPPORT_WINDOW // 2
    padded = np.pad(small, ((half, half), (half, half), (0, 0)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(
        padded, (SUPPORT_WINDOW, SUPPORT_WINDOW), axis=(0, 1)
    )[:: SUPPORT_WINDOW // 3, :: SUPPORT_WINDOW // 3]
    samples = windows.reshape(*windows.shape[:3], -1)
    rank = int(0.9 * (samples.shape[-1] - 1))
    grid = np.partition(samples, rank, axis=-1)[..., rank]
    return [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(grid[..., c], dtype=np.float32)).resize(
                (width, height), Image.Resampling.BILINEAR
            )
        )
        for c in range(3)
    ]


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray((rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / 3)


def _contrast(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much darker than the support each pixel is, and how far from its hue (squared)."""
    support = _support(rgb)
    # Channel by channel: a reduction across the last axis of a whole page is slow.
    # In place where it can be: each full-size temporary costs as much as the arithmetic.
    differences = [np.subtract(rgb[..., c], support[c]) for c in range(3)]
    darkness = differences[0] + differences[1]
    darkness += differences[2]
    darkness *= -1 / 3
    # Chroma: the difference once its change of brightness is taken out, so that dark ink is
    # not colour and a coloured wash is.
    for difference in differences:
        difference += darkness
        np.square(difference, out=difference)
    chroma = differences[0]
    chroma += differences[1]
    chroma += differences[2]
    return darkness, chroma


def ink_masks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where there is ink (dark or coloured), and where it is coloured."""
    darkness, chroma = _contrast(rgb)
    colour = chroma > CHROMA**2
    return (darkness > DARKER) | colour, colour


def _ink_threshold(darkness: np.ndarray, page: np.ndarray) -> float:
    """How much darker than the support ink is on this page: DARKER, or more where the other
    side's script shows through — fainter than this side's, it falls below an Otsu split of
    the letters darker than DARKER. Letters only: a photo's or a wash's many shades would move
    the split into this side's own figures."""
    # Read on one pixel in two each way: the split needs no more, and labelling is costly.
    sampled = darkness[::2, ::2]
    darker = sampled[_letters((sampled > DARKER) & page[::2, ::2])]
    if len(darker) < 100:
        return DARKER
    return float(np.clip(threshold_otsu(darker), DARKER, BLEED_THROUGH))


def line_pitch(ink: np.ndarray) -> float:
    """The distance between text lines: the strongest period of the rows' ink, read on narrow
    strips so that a page turned a little still beats clearly, and on stretches of rows
    weighed by how clearly they beat, so that a photo's speckle does not drown a few lines."""
    height, width = ink.shape
    strips = max(1, min(12, width // 120))
    stretch = min(height, PITCH_STRETCH)
    starts = range(0, max(1, height - stretch + 1), max(1, stretch // 2))
    high = max(7, min(stretch // 3, 240))
    correlation = np.zeros(high)
    for index in range(strips):
        strip = ink[:, index * width // strips : (index + 1) * width // strips].mean(axis=1)
        for start in starts:
            profile = strip[start : start + stretch]
            profile = profile - ndi.uniform_filter1d(profile, 101)
            transformed = np.fft.fft(profile, 2 * stretch)
            own = np.real(np.fft.ifft(transformed * np.conj(transformed)))[:high]
            if own[0] <= 0:
                continue
            own = own / own[0]
            correlation += own * _periodicity(own) ** 2
    if correlation[0] <= 0:
        return float(height / 50)
    correlation = correlation / correlation[0]
    low = 6
    lags = np.arange(low, high)
    values = correlation[low:high]
    peaks = lags[1:-1][(values[1:-1] > values[:-2]) & (values[1:-1] >= values[2:])]
    peaks = peaks[correlation[peaks] > 0.1]
    if not len(peaks):
        return float(height / 50)
    best = float(correlation[peaks].max())
    # The fundamental, not one of its multiples: the first peak nearly as strong as the best.
    first = int(peaks[correlation[peaks] >= 0.7 * best][0])
    return float(first)


def _periodicity(correlation: np.ndarray) -> float:
    """How clearly an autocorrelation beats: the rise of its best peak over the trough before
    it. Lines of text rise high; a smooth photo's falls away without a peak."""
    rises = correlation[1:-1] - np.minimum.accumulate(correlation)[:-2]
    peaks = (correlation[1:-1] > correlation[:-2]) & (correlation[1:-1] >= correlation[2:])
    return float(rises[peaks].max()) if peaks.any() else 0.0


def _letters(ink: np.ndarray) -> np.ndarray:
    """The ink of pieces no taller than a line or two: what the text's rhythm is read from,
    without the figures and initials that would drown it."""
    labels, boxes = pieces(ink)
    if not boxes:
        return ink
    heights = np.asarray([y1 - y0 for _, y0, _, y1 in boxes])
    small = np.concatenate([[False], heights <= ink.shape[0] / 15])
    return np.asarray(small[labels], dtype=bool)


def _opened(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels on straight runs at least `length` long along `axis`."""
    return running_max(running_min(mask, length, axis), length, axis)


def _rules(ink: np.ndarray, pitch: float) -> np.ndarray:
    """Thin straight lines longer than a few pitches: the ruling and the frames of columns."""
    length, thick = max(8, int(5 * pitch)), max(3, round(pitch / 6))
    rules = _opened(ink, length, 1) & ~_opened(ink, thick, 0)
    rules |= _opened(ink, length, 0) & ~_opened(ink, thick, 1)
    return np.asarray(rules, dtype=bool)


def _beats(ink: np.ndarray, pitch: float) -> float:
    """How strongly a region's rows beat at the line pitch: near 1 for lines of script. Read on
    strips a few pitches wide, so that lines turned a little still beat."""
    width = ink.shape[1]
    strips = max(1, int(width // (5 * pitch)))
    beats = [
        _strip_beat(ink[:, i * width // strips : (i + 1) * width // strips], pitch)
        for i in range(strips)
    ]
    return max(0.0, float(np.mean(beats)))


def _strip_beat(ink: np.ndarray, pitch: float) -> float:
    profile = ink.mean(axis=1)
    profile = profile - profile.mean()
    energy = float((profile**2).sum())
    lag, half = round(pitch), round(pitch / 2)
    if energy == 0 or len(profile) <= 2 * lag:
        return 0.0
    # Lines of script alternate with empty bands; a solid figure's rows barely change.
    modulation = min(1.0, float(profile.std()) / (float(ink.mean()) or 1.0))
    at_pitch = float((profile[:-lag] * profile[lag:]).sum()) / energy
    at_half = float((profile[:-half] * profile[half:]).sum()) / energy
    return modulation * (at_pitch - at_half) / 2


def _inked_rows(ink: np.ndarray, pitch: float, window: int, least: float) -> np.ndarray:
    """Where every row over a pitch has at least `least` ink across `window` pixels."""
    across = ndi.uniform_filter1d(ink.view(np.uint8), window, axis=1, output=np.float32)
    everywhere = running_min(across, max(3, int(pitch)), 0) > least
    everywhere = running_max(everywhere, max(3, int(pitch)), 0)
    # The average across reached past the figure's sides by half its window.
    return running_min(everywhere, window, 1)


def _lighter_sides(
    boxes: list[Box], ink: np.ndarray, colour: np.ndarray, pitch: float, initials: list[Box]
) -> list[Box]:
    """Dense figures grown into what is inked less but on every row still, read across a wider
    window: the light side of a stippled or hatched picture. Not initials, whose neighbours
    are script, never over another dense part or an initial, and never past a few times the
    dense part."""
    growing = [b for b in boxes if not _initial_like(b, ink, colour, pitch)]
    if not growing:
        return boxes
    labels, lighter = pieces(
        _inked_rows(ink, pitch, max(3, int(4 * pitch)), DENSE * LIGHT), diagonal=False
    )
    result = []
    for box in boxes:
        x0, y0, x1, y1 = box
        touched = np.unique(labels[y0:y1, x0:x1])
        grown = box
        if box in growing:
            for label in touched[touched > 0]:
                left, top, right, bottom = lighter[label - 1]
                grown = (
                    min(grown[0], left),
                    min(grown[1], top),
                    max(grown[2], right),
                    max(grown[3], bottom),
                )
        area = (x1 - x0) * (y1 - y0)
        if any(other != box and _overlap(other, grown) > 0.5 for other in boxes) or any(
            _overlap(initial, grown) > 0.9 > _overlap(initial, box) for initial in initials
        ):
            grown = box  # grown into another figure or an initial: the lighter part was script
        result.append(
            grown if (grown[2] - grown[0]) * (grown[3] - grown[1]) <= GROWTH * area else box
        )
    return result


def _extent(mask: np.ndarray, x: int, y: int) -> Box | None:
    """The box around what is true in `mask`, whose corner lies at (x, y); None if nothing is."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return x + int(cols[0]), y + int(rows[0]), x + int(cols[-1]) + 1, y + int(rows[-1]) + 1


def _dense_areas(ink: np.ndarray, pitch: float, initials: list[Box]) -> list[Box]:
    """Areas inked on every row over a few pitches: no empty band between lines, so no script.
    An initial set beside a figure is inked on every row too, and joins the figure's area
    across the gap between them: the area is read without it, or its box would take in the
    script beside the initial."""
    labels, areas = pieces(_inked_rows(ink, pitch, max(3, int(1.5 * pitch)), DENSE), diagonal=False)
    boxes = []
    for index, area in enumerate(areas, start=1):
        x0, y0, x1, y1 = area
        held = [
            b
            for b in initials
            if _overlap(b, area) > 0.9
            and (b[2] - b[0]) * (b[3] - b[1]) < 0.5 * (x1 - x0) * (y1 - y0)
        ]
        if held:
            own = labels[y0:y1, x0:x1] == index
            for bx0, by0, bx1, by1 in held:
                own[max(0, by0 - y0) : by1 - y0, max(0, bx0 - x0) : bx1 - x0] = False
            if (kept := _extent(own, x0, y0)) is None:
                continue
            x0, y0, x1, y1 = kept
        box = _extent(ink[y0:y1, x0:x1], x0, y0)
        if box:
            boxes.append(box)
    return boxes


def _speckled(ink: np.ndarray, parts: tuple[np.ndarray, list[Box]], pitch: float) -> list[Box]:
    """Areas strewn with dots, a stippled picture's: many specks, and more specks than
    strokes, over a couple of pitches each way, and no rhythm of lines: script is strokes, or
    specks in lines when small; foxing is too sparse. Shares are read on a grid twice as
    coarse."""
    labels, boxes = parts
    if not boxes:
        return []
    sides = np.asarray(boxes)
    extent = np.maximum(sides[:, 2] - sides[:, 0], sides[:, 3] - sides[:, 1])
    is_speck = np.concatenate([[False], extent <= max(3.0, pitch / 6)])
    specks = is_speck[labels] & ink
    window = max(2, int(pitch))
    share = ndi.uniform_filter(reduced(specks, 2), window)
    inked = ndi.uniform_filter(reduced(ink, 2), window)
    _, strewn = pieces((share > SPECKLED) & (share > 0.5 * inked), diagonal=False)
    found = []
    for x0, y0, x1, y1 in strewn:
        box = _extent(specks[2 * y0 : 2 * y1, 2 * x0 : 2 * x1], 2 * x0, 2 * y0)
        if box and _beats(ink[box[1] : box[3], box[0] : box[2]], pitch) <= TEXT_BEAT:
            found.append(box)
    return found


def _overlap(a: Box, b: Box) -> float:
    """The share of the smaller box that lies in the other."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller else 0.0


def _near(a: Box, b: Box, reach: int) -> bool:
    return (
        a[0] - reach < b[2] and b[0] - reach < a[2] and a[1] - reach < b[3] and b[1] - reach < a[3]
    )


def _initial_like(box: Box, ink: np.ndarray, colour: np.ndarray, pitch: float) -> bool:
    """A few lines tall, about square, and painted or cut solid, unlike a pen drawing."""
    x0, y0, x1, y1 = box
    height, width = y1 - y0, x1 - x0
    low, high = INITIAL_LINES
    if not (0.7 < width / height < 1.43 and low * pitch <= height <= high * pitch):
        return False
    held = ink[y0:y1, x0:x1]
    # A block cut in black around a white letter is mostly ink, even where thin between; a
    # letter of the script, in its own box, may be too, but is not taller than a line.
    return (
        float(colour[y0:y1, x0:x1].mean()) > 0.1
        or (height > 1.2 * pitch and float(held.mean()) > SOLID_BLOCK)
        or _solid(held, pitch) > 0.3
    )


def _with_penwork(box: Box, colour: np.ndarray) -> Box:
    """An initial with the coloured pen-work around it, a fifth of its size at most."""
    x0, y0, x1, y1 = box
    reach = (x1 - x0 + y1 - y0) // 10
    top, left = max(0, y0 - reach), max(0, x0 - reach)
    penwork = _extent(colour[top : y1 + reach, left : x1 + reach], left, top)
    if not penwork:
        return box
    return min(x0, penwork[0]), min(y0, penwork[1]), max(x1, penwork[2]), max(y1, penwork[3])


def _merged(boxes: list[Box], reach: int) -> list[Box]:
    """Boxes mostly inside one another, or closer than `reach`, joined until none are."""
    boxes = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlap(boxes[i], boxes[j]) > 0.5 or (
                    reach and _near(boxes[i], boxes[j], reach)
                ):
                    a, b = boxes[i], boxes.pop(j)
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    changed = True
                    break
            if changed:
                break
    return boxes


def _solid(piece: np.ndarray, pitch: float) -> float:
    """The share of a piece that is more than a pen stroke thick: high for initials."""
    depth = max(1, round(pitch / 12))
    total = int(piece.sum())
    return int(ndi.binary_erosion(piece, iterations=depth).sum()) / total if total else 0.0


def _sized(box: Box, pitch: float, page_size: tuple[int, int]) -> bool:
    """Large enough for an initial, and not a band along the page: a shadow or a border."""
    width, height = box[2] - box[0], box[3] - box[1]
    return (
        min(width, height) >= INITIAL_LINES[0] * pitch
        and height <= 0.8 * page_size[1]
        and width <= 0.9 * page_size[0]
    )


def _stands_out(
    labels: np.ndarray,
    index: int,
    box: Box,
    ink: np.ndarray,
    pitch: float,
    page_size: tuple[int, int],
) -> bool:
    """Whether a piece of ink may be a figure or an initial: sized for one, and neither a
    chain of script (letters touching from line to line) nor a frame around script."""
    if not _sized(box, pitch, page_size):
        return False
    x0, y0, x1, y1 = box
    if y1 - y0 <= 2.5 * pitch:
        return True
    held = ink[y0:y1, x0:x1]
    if _beats(labels[y0:y1, x0:x1] == index, pitch) > TEXT_BEAT:
        return False
    return not (_beats(held, pitch) > TEXT_BEAT and float(held.mean()) < 0.3)


def _script_around(box: Box, dense: list[Box], ink: np.ndarray, pitch: float) -> bool:
    """Whether a piece is a dense figure with lines of script chained to it: outside the
    dense areas it holds, its ink beats like script. The dense areas stand for it then."""
    x0, y0, x1, y1 = box
    inside = [d for d in dense if _overlap(d, box) > 0.9]
    held = sum((d[2] - d[0]) * (d[3] - d[1]) for d in inside)
    if not inside or held > 0.6 * (x1 - x0) * (y1 - y0):
        return False
    rest = ink[y0:y1, x0:x1].copy()
    for d in inside:
        rest[max(0, d[1] - y0) : d[3] - y0, max(0, d[0] - x0) : d[2] - x0] = False
    return _beats(rest, pitch) > TEXT_BEAT / 2


def _candidates(
    ink: np.ndarray,
    rules: np.ndarray,
    colour: np.ndarray,
    pitch: float,
    page_size: tuple[int, int],
    toned: list[Box],
    inner: np.ndarray,
) -> list[Box]:
    """Pieces of ink that stand out from the script, the rules apart (a frame of rules is a
    figure's when what it holds is not script), the densely inked areas, and the panels of
    tone; each within the `inner` page: what reaches the leaf's edge is not on it (a finger,
    the shadow along a page's edge)."""
    inked = pieces(ink)
    standing = [
        box
        for labels, boxes in (inked, pieces(rules))
        for index, box in enumerate(boxes, start=1)
        if _stands_out(labels, index, box, ink, pitch, page_size)
    ]
    initials = [b for b in standing if _initial_like(b, ink, colour, pitch)]
    dense = [b for b in _dense_areas(ink, pitch, initials) if _sized(b, pitch, page_size)]
    dense = [
        b
        for b in _lighter_sides(dense, ink, colour, pitch, initials)
        if _sized(b, pitch, page_size)
    ]
    strewn = [b for b in _speckled(ink, inked, pitch) if _sized(b, pitch, page_size)]
    candidates = dense + strewn + [b for b in toned if _sized(b, pitch, page_size)]
    candidates += [b for b in standing if not _script_around(b, dense, ink, pitch)]
    return [b for b in candidates if inner[b[1] : b[3], b[0] : b[2]].all()]


def _regions(
    candidates: list[Box], ink: np.ndarray, colour: np.ndarray, pitch: float
) -> list[tuple[str, Box, float]]:
    """Candidates told apart: initials, and figures joined from their pieces."""
    merged = _merged(candidates, 0)
    initials = [b for b in merged if _initial_like(b, ink, colour, pitch)]
    # A drawing is strokes apart, a stippled picture dots apart: what lies within a fraction
    # of a line of each other is one figure; script beside it never became a candidate.
    figures = _merged([b for b in merged if b not in initials], max(1, int(0.6 * pitch)))
    found = []
    for box in figures:
        x0, y0, x1, y1 = box
        height, width = y1 - y0, x1 - x0
        if height > FIGURE_LINES * pitch and width > FIGURE_LINES * pitch:
            coverage = float(ink[y0:y1, x0:x1].mean())
            colourful = float(colour[y0:y1, x0:x1].mean())
            kind = "illustration" if coverage > 0.3 or colourful > 0.2 else "diagram"
            confidence = min(0.99, 0.6 + 0.4 * min(height, width) / (12 * pitch))
            found.append((kind, box, confidence))
    for box in initials:
        if any(_overlap(box, figure) > 0.5 for _, figure, _ in found):
            continue
        box = _with_penwork(box, colour)
        coverage = float(ink[box[1] : box[3], box[0] : box[2]].mean())
        found.append(("initial", box, min(0.95, 0.5 + coverage)))
    return found


def find_regions(image: Image.Image) -> list[FoundRegion]:
    """The figures and initials of a scan, in the scan's pixels. A large scan is looked at
    reduced; what lies outside the page is given the page's colour and never looked at."""
    factor = max(1, math.ceil(max(image.size) / WORKING_SIZE))
    seen = image.convert("RGB")
    if factor > 1:
        seen = seen.reduce(factor)
    rgb = np.asarray(seen, dtype=np.float32)
    page = page_mask(rgb)
    rows, cols = np.flatnonzero(page.any(axis=1)), np.flatnonzero(page.any(axis=0))
    if not len(rows):
        return []
    # Only the page's box is looked at when it is much smaller than the scan (on a scanner's
    # bed: half the work or less). Cut on a grid that every coarser reading below shares.
    top = max(0, int(rows[0]) - CROP_MARGIN) // CROP_GRID * CROP_GRID
    left = max(0, int(cols[0]) - CROP_MARGIN) // CROP_GRID * CROP_GRID
    bottom, right = int(rows[-1]) + CROP_MARGIN + 1, int(cols[-1]) + CROP_MARGIN + 1
    if (bottom - top) * (right - left) > CROP_WHEN * page.size:
        top = left = 0
    else:
        rgb = np.ascontiguousarray(rgb[top:bottom, left:right])
        page = np.ascontiguousarray(page[top:bottom, left:right])
    sample = rgb[::4, ::4][page[::4, ::4]]
    rgb[~page] = np.median(sample, axis=0)
    darkness, chroma = _contrast(rgb)
    colour = (chroma > CHROMA**2) & page
    ink = ((darkness > _ink_threshold(darkness, page)) | colour) & page
    if not ink.any():
        return []
    pitch = line_pitch(_letters(ink))
    page_size = (int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    rules = _rules(ink, pitch)
    ink &= ~rules
    toned = panels(_grey(rgb), page, pitch, FIGURE_LINES * pitch)
    # The page less a pitch along its outline.
    reach = 2 * max(1, int(pitch)) + 1
    inner = running_min(page, reach)
    candidates = _candidates(ink, rules, colour, pitch, page_size, toned, inner)
    found = _regions(candidates, ink, colour, pitch)
    return [
        FoundRegion(
            kind,
            (x0 + left) * factor,
            (y0 + top) * factor,
            (x1 - x0) * factor,
            (y1 - y0) * factor,
            round(c, 3),
        )
        for kind, (x0, y0, x1, y1), c in found
    ]
