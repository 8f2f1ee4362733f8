"""Procedural astronomical diagrams: a template in unit coordinates, drawn under a transform."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

Point = tuple[float, float]


@dataclass(frozen=True)
class Circle:
    center: Point
    radius: float


@dataclass(frozen=True)
class Segment:
    start: Point
    end: Point


@dataclass(frozen=True)
class Dot:
    center: Point
    radius: float


@dataclass(frozen=True)
class DiagramTemplate:
    key: str
    circles: tuple[Circle, ...]
    segments: tuple[Segment, ...]
    dots: tuple[Dot, ...]


def _polar(radius: float, angle: float, center: Point = (0.0, 0.0)) -> Point:
    return center[0] + radius * math.cos(angle), center[1] + radius * math.sin(angle)


def _spheres(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    count = int(rng.integers(3, 7))
    radii = sorted([*rng.uniform(0.15, 1.0, count - 1).tolist(), 1.0])
    circles = [Circle((0, 0), r) for r in radii]
    spokes = int(rng.integers(0, 5))
    segments = [Segment((0, 0), _polar(1.0, a)) for a in rng.uniform(0, 2 * math.pi, spokes)]
    return circles, segments, [Dot((0, 0), 0.05)]


def _wheel(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    inner = float(rng.uniform(0.45, 0.8))
    sectors = int(rng.choice([8, 12, 16]))
    offset = float(rng.uniform(0, math.pi))
    circles = [Circle((0, 0), 1.0), Circle((0, 0), inner), Circle((0, 0), inner * 0.3)]
    segments = [
        Segment(_polar(inner * 0.3, a), _polar(1.0, a))
        for a in (offset + k * 2 * math.pi / sectors for k in range(sectors))
    ]
    return circles, segments, []


def _eclipse(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    big, small = float(rng.uniform(0.3, 0.45)), float(rng.uniform(0.1, 0.2))
    sun, earth = (-1 + big, 0.0), (0.55, 0.0)
    moon = (0.9, float(rng.uniform(-0.1, 0.1)))
    circles = [Circle(sun, big), Circle(earth, small), Circle(moon, small * 0.5)]
    segments = [
        Segment((sun[0], sun[1] - big), (1.0, 0.0)),
        Segment((sun[0], sun[1] + big), (1.0, 0.0)),
        Segment((-1.0, 0.0), (1.0, 0.0)),
    ]
    return circles, segments, [Dot(earth, 0.03)]


def _epicycle(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    deferent = float(rng.uniform(0.6, 0.75))
    epi = 1.0 - deferent
    angle = float(rng.uniform(0, 2 * math.pi))
    center = _polar(deferent, angle)
    eccentric = (float(rng.uniform(-0.1, 0.1)), float(rng.uniform(-0.1, 0.1)))
    circles = [Circle(eccentric, deferent), Circle(center, epi), Circle((0, 0), 0.08)]
    planet = _polar(epi, float(rng.uniform(0, 2 * math.pi)), center)
    segments = [Segment((0, 0), center), Segment(center, planet), Segment((0, 0), planet)]
    return circles, segments, [Dot(planet, 0.04), Dot(eccentric, 0.03)]


def _climates(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    chords = sorted(rng.uniform(-0.85, 0.85, int(rng.integers(4, 8))).tolist())
    segments = [Segment((-math.sqrt(1 - y * y), y), (math.sqrt(1 - y * y), y)) for y in chords]
    segments.append(Segment((0, -1), (0, 1)))
    return [Circle((0, 0), 1.0)], segments, []


def _figures(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    sides = int(rng.integers(3, 7))
    offset = float(rng.uniform(0, math.pi))
    corners = [_polar(1.0, offset + k * 2 * math.pi / sides) for k in range(sides)]
    segments = [Segment(corners[k], corners[(k + 1) % sides]) for k in range(sides)]
    segments += [Segment(corners[0], corners[k]) for k in range(2, sides - 1)]
    inner = math.cos(math.pi / sides)
    return [Circle((0, 0), 1.0), Circle((0, 0), inner)], segments, [Dot(c, 0.04) for c in corners]


def _phases(rng: np.random.Generator) -> tuple[list[Circle], list[Segment], list[Dot]]:
    count = int(rng.choice([4, 6, 8]))
    orbit = float(rng.uniform(0.7, 0.8))
    moon = 1.0 - orbit
    offset = float(rng.uniform(0, math.pi))
    centers = [_polar(orbit, offset + k * 2 * math.pi / count) for k in range(count)]
    circles = [Circle((0, 0), orbit), Circle((0, 0), 0.25)] + [Circle(c, moon) for c in centers]
    return circles, [], [Dot(c, moon * float(rng.uniform(0.3, 0.7))) for c in centers[::2]]


KINDS = (_spheres, _wheel, _eclipse, _epicycle, _climates, _figures, _phases)


def make_templates(rng: np.random.Generator, count: int) -> list[DiagramTemplate]:
    templates = []
    for index in range(count):
        circles, segments, dots = KINDS[index % len(KINDS)](rng)
        templates.append(
            DiagramTemplate(f"d{index + 1}", tuple(circles), tuple(segments), tuple(dots))
        )
    return templates


@dataclass(frozen=True)
class Placement:
    center: Point
    radius: float
    angle: float
    flip: bool = False

    def map(self, point: Point) -> Point:
        x, y = (-point[0] if self.flip else point[0]), point[1]
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        return (
            self.center[0] + self.radius * (x * cos - y * sin),
            self.center[1] + self.radius * (x * sin + y * cos),
        )


def extent(
    template: DiagramTemplate, placement: Placement, width: float
) -> tuple[float, float, float, float]:
    """The drawn diagram's bounding box (x0, y0, x1, y1), ink width included."""
    xs: list[float] = []
    ys: list[float] = []
    for circle in template.circles:
        cx, cy = placement.map(circle.center)
        r = circle.radius * placement.radius
        xs += [cx - r, cx + r]
        ys += [cy - r, cy + r]
    for segment in template.segments:
        for point in (segment.start, segment.end):
            x, y = placement.map(point)
            xs.append(x)
            ys.append(y)
    for dot in template.dots:
        cx, cy = placement.map(dot.center)
        r = dot.radius * placement.radius
        xs += [cx - r, cx + r]
        ys += [cy - r, cy + r]
    half = width / 2
    return min(xs) - half, min(ys) - half, max(xs) + half, max(ys) + half


def draw(
    canvas: ImageDraw.ImageDraw,
    template: DiagramTemplate,
    placement: Placement,
    ink: tuple[int, int, int],
    width: int,
    accent: tuple[int, int, int],
) -> None:
    for circle in template.circles:
        cx, cy = placement.map(circle.center)
        r = circle.radius * placement.radius
        canvas.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=width)
    for segment in template.segments:
        canvas.line(
            (placement.map(segment.start), placement.map(segment.end)), fill=ink, width=width
        )
    for dot in template.dots:
        cx, cy = placement.map(dot.center)
        r = max(dot.radius * placement.radius, width)
        canvas.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent, outline=ink)
