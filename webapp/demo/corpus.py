"""A small, deterministic corpus of generated manuscript pages with its ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from webapp.demo.diagrams import DiagramTemplate, make_templates
from webapp.demo.pages import PagePlan, Region, render_page

DEFAULT_SEED = 7
DIAGRAM_COUNT = 8

WORKS = (
    ("Tractatus de sphaera", "Johannes de Sacrobosco", "c. 1230"),
    ("Theorica planetarum", "Gerardus", "13th century"),
    ("De eclipsibus", "Anonymous", "14th century"),
)
SERIES = (
    ("Astronomical miscellanies", "Manuscript compilations of astronomical texts."),
    ("Early printed sphaerae", "Printed editions of the Sphaera with their diagrams."),
)
# siglum, kind, place, date, series index, work indexes
WITNESSES = (
    ("MS A", "manuscript", "Oxford", "c. 1280", 0, (0, 1)),
    ("MS B", "manuscript", "Paris", "c. 1300", 0, (0,)),
    ("MS C", "manuscript", "Bologna", "1340", 0, (1, 2)),
    ("MS D", "manuscript", "Erfurt", "c. 1380", None, (0, 2)),
    ("Print E", "print", "Venice", "1478", 1, (0,)),
    ("Print F", "print", "Leipzig", "1489", 1, (0, 1)),
)
PAGES_PER_WITNESS = 11


@dataclass
class DemoPage:
    order: int
    image: Image.Image
    regions: list[Region]


@dataclass
class DemoWitness:
    siglum: str
    kind: str
    place: str
    date: str
    series: int | None
    works: tuple[int, ...]
    plans: list[PagePlan] = field(default_factory=list)


def plan_corpus(
    seed: int, pages_per_witness: int = PAGES_PER_WITNESS
) -> tuple[list[DemoWitness], list[DiagramTemplate]]:
    """Decide every page's content: each diagram recurs in two to four witnesses."""
    rng = np.random.default_rng(seed)
    templates = make_templates(rng, DIAGRAM_COUNT)
    witnesses = []
    for siglum, kind, place, date, series, works in WITNESSES:
        width = int(rng.integers(900, 1100))
        height = int(width * rng.uniform(1.35, 1.45))
        plans = [
            PagePlan(width, height, initials=int(rng.integers(0, 3)))
            for _ in range(pages_per_witness)
        ]
        witnesses.append(DemoWitness(siglum, kind, place, date, series, works, plans))
    for template in templates:
        chosen = rng.choice(len(witnesses), int(rng.integers(2, 5)), replace=False)
        for index in chosen:
            plans = witnesses[int(index)].plans
            light = [p for p in plans if len(p.figures) < 2] or plans
            light[int(rng.integers(0, len(light)))].figures.append(("diagram", template))
    for witness in witnesses:
        for plan in witness.plans:
            if (not plan.figures and rng.random() < 0.45) or (
                len(plan.figures) == 1 and rng.random() < 0.2
            ):
                plan.figures.append(("illustration", None))
    return witnesses, templates


def render_witness(seed: int, witness_index: int, witness: DemoWitness) -> Iterator[DemoPage]:
    """Pages of one witness; each page has its own random stream, so any page renders alone."""
    for order, plan in enumerate(witness.plans, start=1):
        rng = np.random.default_rng([seed, witness_index, order])
        image, regions = render_page(rng, plan)
        yield DemoPage(order, image, regions)
