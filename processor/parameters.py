"""What each task accepts: its methods (for GET /{task}/models) and its checked parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ParameterError(ValueError):
    """A parameter is missing its mark; the message says which and why."""


@dataclass(frozen=True)
class Choice:
    name: str
    desc: str
    type: str | None = None

    def describe(self, key: str) -> dict[str, str]:
        info = {"name": self.name, "model": key, "desc": self.desc}
        if self.type:
            info["type"] = self.type
        return info


REGION_METHOD = (
    "Classical image processing, no trained model. Ink is what is darker than the page's "
    "support or coloured; figures are ink components many text lines tall each way, told "
    "apart as illustrations (dense or coloured) or diagrams (line drawings)."
)
REGIONS = {
    "illustration_extraction": Choice(
        "Illustrations and diagrams", REGION_METHOD + " Decorated initials are left out."
    ),
    "illustrations_and_initials": Choice(
        "Illustrations, diagrams and initials",
        REGION_METHOD + " Decorated initials (compact, filled, coloured blocks a few lines tall) "
        "are returned too, with the class 'initial'.",
    ),
}
VECTORIZATION = {
    "strokes": Choice(
        "Strokes, lines and circles",
        "Skeleton of the ink; circles found by a Hough transform radius by radius, straight "
        "lines by a probabilistic Hough transform, the rest traced as simplified outlines. "
        "One SVG per image, in a zip.",
    )
}
SIMILARITY = {
    "cosine": Choice(
        "Cosine similarity",
        "Cosine of region descriptors; each region keeps its top-k most similar regions of the "
        "other document (or of its own) scoring at least the threshold.",
        "algorithm",
    ),
    "ring_fourier": Choice(
        "Ring Fourier descriptor",
        "Ink sampled on rings around its centre of mass, scaled to the figure; the magnitudes "
        "of each ring's angular Fourier transform. Invariant to position, scale, rotation and "
        "mirroring; no trained network.",
        "feat_net",
    ),
}
# A client that could not read the models sends its own default: ours is the only descriptor.
FEATURE_ALIASES = {"default": "ring_fourier"}


def _choice(value: Any, name: str, choices: dict[str, Choice], default: str) -> str:
    value = default if value is None else value
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}.")
    return value


def _integer(value: Any, name: str, low: int, high: int, default: int) -> int:
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"{name} must be a whole number from {low} to {high}, not {value!r}.")
    return value


def _number(value: Any, name: str, low: float, high: float, default: float) -> float:
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ParameterError(f"{name} must be a number from {low:g} to {high:g}, not {value!r}.")
    return float(value)


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be true or false, not {value!r}.")
    return value


def _pairs(value: Any) -> list[list[str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(i, str) for i in p) for p in value
    ):
        raise ParameterError("skip_pairs must be a list of pairs of image ids.")
    return [list(p) for p in value]


def _regions(raw: dict[str, Any]) -> dict[str, Any]:
    return {"model": _choice(raw.get("model"), "model", REGIONS, "illustration_extraction")}


def _vectorization(raw: dict[str, Any]) -> dict[str, Any]:
    return {"model": _choice(raw.get("model"), "model", VECTORIZATION, "strokes")}


# AIKON's API reads these names; a client written for it sends them.
AIKON_SIMILARITY_NAMES = {
    "cosine_n_filter": "topk",
    "segswap_prefilter": "prefilter",
    "segswap_n": "prefilter_n",
}


def _similarity(raw: dict[str, Any]) -> dict[str, Any]:
    raw = {
        **{ours: raw[theirs] for theirs, ours in AIKON_SIMILARITY_NAMES.items() if theirs in raw},
        **raw,
    }
    features = raw.get("feat_net")
    features = FEATURE_ALIASES.get(features, features) if isinstance(features, str) else features
    algorithms = {k: c for k, c in SIMILARITY.items() if c.type == "algorithm"}
    feature_nets = {k: c for k, c in SIMILARITY.items() if c.type == "feat_net"}
    return {
        "algorithm": _choice(raw.get("algorithm"), "algorithm", algorithms, "cosine"),
        "feat_net": _choice(features, "feat_net", feature_nets, "ring_fourier"),
        "topk": _integer(raw.get("topk"), "topk", 1, 1000, 10),
        "threshold": _number(raw.get("threshold"), "threshold", 0.0, 1.0, 0.5),
        "prefilter": _flag(raw.get("prefilter"), "prefilter"),
        "prefilter_n": _integer(raw.get("prefilter_n"), "prefilter_n", 1, 100_000, 50),
        "skip_pairs": _pairs(raw.get("skip_pairs")),
    }


METHODS: dict[str, dict[str, Choice]] = {
    "regions": REGIONS,
    "vectorization": VECTORIZATION,
    "similarity": SIMILARITY,
}
CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "regions": _regions,
    "vectorization": _vectorization,
    "similarity": _similarity,
}


def check_parameters(task: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The task's parameters from a start request: top level, or under `parameters`, which
    wins. Keys the task does not know are ignored, as a client may send its own."""
    nested = payload.get("parameters", {})
    if not isinstance(nested, dict):
        raise ParameterError("parameters must be a JSON object.")
    return CHECKS[task]({**payload, **nested})
