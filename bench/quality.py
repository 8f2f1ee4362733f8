"""Quality of the reference processor's algorithms against two corpora with known answers.

The demo corpus: for each seed, generated in memory (as `flask demo seed --seed N` would),
pages through JPEG as scans do; the processor sees only their pixels. Printed, next to
baselines measured in the same run:
- regions precision and recall for illustrations and diagrams (a box matches at IoU >= 0.5, one
  to one, greedy by confidence), initials apart; baseline: a plain Otsu threshold and its
  connected components larger than a fixed 100 px each way;
- similarity recall@5: for each true figure whose diagram recurs, whether another box of the
  same diagram is among its 5 most similar figures; baseline: cosine of 32x32 grey thumbnails;
- pages per second; baseline: decoding the pages alone.

The scans corpus (`bench.scans`), made by other code and unlike the demo's: pages and openings,
cropped or on a scanner's bed with a colour chart and a ruler (and fingers holding some down),
turned, stained, foxed, with bleed-through and binding shadows, dense script, seven kinds of
figure and five of initial, in three tiers. The same scores, the same baseline, and recall by
kind, tier and setting.

    python -m bench.quality [--seed 7] [--other-seed 11] [--scans 150] [--scan-seed 2] [--quick]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from bench.scans.scenes import TIERS, Scan, scans
from processor.regions import find_regions
from processor.similarity import descriptor
from webapp.demo.corpus import plan_corpus, render_witness

Box = tuple[int, int, int, int]
FIGURES = {"illustration", "diagram"}


@dataclass
class Score:
    found: int = 0
    true: int = 0
    matched: int = 0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.true if self.true else 0.0


@dataclass(kw_only=True)
class Scores:
    figures: Score = field(default_factory=Score)
    initials: Score = field(default_factory=Score)
    baseline_figures: Score = field(default_factory=Score)


@dataclass
class SeedResult(Scores):
    seed: int
    recall5: float = 0.0
    baseline_recall5: float = 0.0
    pages_per_second: float = 0.0
    decode_pages_per_second: float = 0.0


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _match(score: Score, guesses: list[tuple[float, Box]], truth: list[Box]) -> list[bool]:
    """Scores the guesses; says which of the truths were found."""
    unused = list(range(len(truth)))
    for _, box in sorted(guesses, key=lambda g: -g[0]):
        hit = next((i for i in unused if _iou(box, truth[i]) >= 0.5), None)
        if hit is not None:
            unused.remove(hit)
            score.matched += 1
    score.found += len(guesses)
    score.true += len(truth)
    return [i not in unused for i in range(len(truth))]


def _baseline_regions(image: Image.Image) -> list[tuple[float, Box]]:
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    labels, _ = ndi.label(grey < threshold_otsu(grey))
    return [
        (1.0, (s[1].start, s[0].start, s[1].stop - s[1].start, s[0].stop - s[0].start))
        for s in ndi.find_objects(labels)
        if s is not None and s[0].stop - s[0].start > 100 and s[1].stop - s[1].start > 100
    ]


def _thumbnail(image: Image.Image) -> np.ndarray:
    vector = np.asarray(image.convert("L").resize((32, 32)), dtype=np.float32).ravel()
    vector = 255.0 - vector
    return vector / (np.linalg.norm(vector) or 1.0)


def _recall_at_5(keys: list[str | None], vectors: list[np.ndarray]) -> float:
    scores = np.vstack(vectors) @ np.vstack(vectors).T
    np.fill_diagonal(scores, -np.inf)
    recurring = [i for i, key in enumerate(keys) if key and keys.count(key) > 1]
    hits = sum(any(keys[j] == keys[i] for j in np.argsort(-scores[i])[:5]) for i in recurring)
    return hits / len(recurring) if recurring else 0.0


def _scans(seed: int, pages_per_witness: int) -> Iterator[tuple[Image.Image, list[Any]]]:
    witnesses, _ = plan_corpus(seed, pages_per_witness)
    for index, witness in enumerate(witnesses):
        for page in render_witness(seed, index, witness):
            buffer = io.BytesIO()
            page.image.save(buffer, "JPEG", quality=88)
            yield Image.open(io.BytesIO(buffer.getvalue())), page.regions


def evaluate(seed: int, pages_per_witness: int) -> SeedResult:
    result = SeedResult(seed)
    scans = list(_scans(seed, pages_per_witness))
    keys: list[str | None] = []
    ours: list[np.ndarray] = []
    thumbs: list[np.ndarray] = []
    seconds = 0.0
    for scan, regions in scans:
        start = time.perf_counter()
        found = find_regions(scan)
        seconds += time.perf_counter() - start
        truth_figures = [r.box for r in regions if r.kind in FIGURES]
        _match(
            result.figures,
            [(f.confidence, (f.x, f.y, f.w, f.h)) for f in found if f.kind in FIGURES],
            truth_figures,
        )
        _match(
            result.initials,
            [(f.confidence, (f.x, f.y, f.w, f.h)) for f in found if f.kind == "initial"],
            [r.box for r in regions if r.kind == "initial"],
        )
        _match(result.baseline_figures, _baseline_regions(scan), truth_figures)
        for region in regions:
            if region.kind in FIGURES:
                x, y, w, h = region.box
                crop = scan.crop((x, y, x + w, y + h))
                keys.append(region.diagram)
                ours.append(descriptor(crop))
                thumbs.append(_thumbnail(crop))
    result.recall5 = _recall_at_5(keys, ours)
    result.baseline_recall5 = _recall_at_5(keys, thumbs)
    result.pages_per_second = len(scans) / seconds
    start = time.perf_counter()
    for scan, _ in scans:
        np.asarray(scan.convert("RGB"))
    result.decode_pages_per_second = len(scans) / (time.perf_counter() - start)
    return result


@dataclass
class ScansResult(Scores):
    count: int
    # What was drawn, the tier, the setting: [found, true] of its figures and initials.
    recall_by: dict[str, list[int]] = field(default_factory=dict)
    pages_per_second: float = 0.0
    baseline_pages_per_second: float = 0.0
    decode_pages_per_second: float = 0.0

    def count_recall(self, label: str, found: bool) -> None:
        tally = self.recall_by.setdefault(label, [0, 0])
        tally[0] += found
        tally[1] += 1


def _found_boxes(found: list[Any], kinds: set[str]) -> list[tuple[float, Box]]:
    return [(f.confidence, (f.x, f.y, f.w, f.h)) for f in found if f.kind in kinds]


def evaluate_scans(seed: int, count: int) -> ScansResult:
    result = ScansResult(count)
    corpus: list[Scan] = list(scans(seed, count))
    ours = baseline = decode = 0.0
    for scan in corpus:
        start = time.perf_counter()
        image = scan.image()
        image.load()
        decode += time.perf_counter() - start
        start = time.perf_counter()
        found = find_regions(image)
        ours += time.perf_counter() - start
        start = time.perf_counter()
        guesses = _baseline_regions(image)
        baseline += time.perf_counter() - start
        figures = [t for t in scan.truths if t.kind in FIGURES]
        initials = [t for t in scan.truths if t.kind == "initial"]
        _match(result.baseline_figures, guesses, [t.box for t in figures])
        for score, kinds, truths in (
            (result.figures, FIGURES, figures),
            (result.initials, {"initial"}, initials),
        ):
            hits = _match(score, _found_boxes(found, kinds), [t.box for t in truths])
            for truth, hit in zip(truths, hits, strict=True):
                group = "initial" if truth.kind == "initial" else "figure"
                result.count_recall(f"{group}: {truth.style.split()[0]}", hit)
                result.count_recall(f"{group}s, tier {scan.tier}", hit)
                result.count_recall(f"{group}s, {scan.setting}", hit)
    result.pages_per_second = count / ours
    result.baseline_pages_per_second = count / (baseline + decode)
    result.decode_pages_per_second = count / decode
    return result


def _print_scans(r: ScansResult, seed: int) -> None:
    print(f"\nscans corpus, seed {seed}, {r.count} scans")
    print(
        f"{'fig P':>6} {'fig R':>6} {'base P':>7} {'base R':>7} {'init P':>7} {'init R':>7} "
        f"{'pages/s':>8} {'base/s':>7} {'decode/s':>9}"
    )
    print(
        f"{r.figures.precision:6.3f} {r.figures.recall:6.3f} "
        f"{r.baseline_figures.precision:7.3f} {r.baseline_figures.recall:7.3f} "
        f"{r.initials.precision:7.3f} {r.initials.recall:7.3f} {r.pages_per_second:8.2f} "
        f"{r.baseline_pages_per_second:7.2f} {r.decode_pages_per_second:9.1f}"
    )
    order = [f"tier {t}" for t in TIERS]
    for label, (hit, total) in sorted(
        r.recall_by.items(),
        key=lambda item: (
            item[0].split()[0],
            next((i for i, o in enumerate(order) if o in item[0]), -1),
            item[0],
        ),
    ):
        print(f"  recall of {label:<34} {hit / total:6.3f}  ({hit} of {total})")
    print(
        f"scans: figures P {r.figures.precision:.3f} R {r.figures.recall:.3f} against the Otsu "
        f"baseline's P {r.baseline_figures.precision:.3f} R {r.baseline_figures.recall:.3f}; "
        f"initials R {r.initials.recall:.3f}; {r.pages_per_second:.2f} pages/s "
        "(aim: P and R at least 0.9, initials R at least 0.8, 3 pages/s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--other-seed", type=int, default=11)
    parser.add_argument("--scans", type=int, default=150, help="scans in the scans corpus")
    parser.add_argument("--scan-seed", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 pages per witness, 12 scans")
    args = parser.parse_args()
    pages = 2 if args.quick else 11
    results = [evaluate(seed, pages) for seed in (args.seed, args.other_seed)]
    print(
        f"{'seed':>5} {'fig P':>6} {'fig R':>6} {'base P':>7} {'base R':>7} {'init P':>7} "
        f"{'init R':>7} {'R@5':>5} {'base':>5} {'pages/s':>8} {'decode/s':>9}"
    )
    for r in results:
        print(
            f"{r.seed:5d} {r.figures.precision:6.3f} {r.figures.recall:6.3f} "
            f"{r.baseline_figures.precision:7.3f} {r.baseline_figures.recall:7.3f} "
            f"{r.initials.precision:7.3f} {r.initials.recall:7.3f} {r.recall5:5.3f} "
            f"{r.baseline_recall5:5.3f} {r.pages_per_second:8.2f} "
            f"{r.decode_pages_per_second:9.1f}"
        )
    first, other = results
    print(f"speed: {first.pages_per_second / first.decode_pages_per_second:.3f} of decoding alone")
    gaps = [
        abs(a - b)
        for a, b in (
            (first.figures.precision, other.figures.precision),
            (first.figures.recall, other.figures.recall),
            (first.recall5, other.recall5),
        )
    ]
    ours, baseline = first.figures, first.baseline_figures
    print(
        f"figures / Otsu baseline: precision {ours.precision / max(baseline.precision, 1e-9):.2f}"
        f", recall {ours.recall / max(baseline.recall, 1e-9):.2f}; "
        f"largest gap between the seeds: {max(gaps):.3f} (aim: within 0.05; "
        "precision, recall and recall@5 at least 0.95)"
    )
    _print_scans(evaluate_scans(args.scan_seed, 12 if args.quick else args.scans), args.scan_seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
