"""Background task classes the tests start: every kind of input, a slow one that sees its
cancel, one that breaks, one that returns what it does not declare."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from webapp.tasks.base import BackgroundTask
from webapp.tasks.inputs import (
    BoolParameter,
    ChoiceParameter,
    DictParameter,
    IntParameter,
    ListParameter,
    NumberParameter,
    Parameter,
    StringParameter,
)
from webapp.tasks.run import TaskRun

SAMPLES = [
    "tests.sample_tasks:Sum",
    "tests.sample_tasks:Slow",
    "tests.sample_tasks:Broken",
    "tests.sample_tasks:Liar",
]


class Sum(BackgroundTask):
    name = "sum"
    label = "Add numbers"
    inputs: ClassVar[dict[str, Parameter]] = {
        "numbers": ListParameter(label="Numbers", of=NumberParameter(), min_items=1),
        "scale": IntParameter(label="Scale", min=1, max=100, default=1),
        "mode": ChoiceParameter(choices=("sum", "max"), default="sum"),
        "note": StringParameter(max_length=20, blank=True, default=""),
        "loud": BoolParameter(default=False),
        "tags": DictParameter(default=None),
    }
    outputs: ClassVar[dict[str, Parameter]] = {"total": NumberParameter(label="Total")}

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        numbers = inputs["numbers"]
        run.set_target(len(numbers))
        run.set_sub_state("Adding")
        for _ in numbers:
            run.advance()
        combine = sum if inputs["mode"] == "sum" else max
        total = combine(numbers) * inputs["scale"]
        run.say(f"The {inputs['mode']} is {total:g}.")
        run.add_text("Sum", f"{' + '.join(f'{n:g}' for n in numbers)} = {total:g}")
        return {"total": total}


class Slow(BackgroundTask):
    name = "slow"
    label = "Take a while"
    inputs: ClassVar[dict[str, Parameter]] = {
        "steps": IntParameter(min=1, max=10_000, default=400),
        "pause": NumberParameter(min=0, max=1, default=0.02),
    }

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        run.set_target(inputs["steps"])
        for _ in range(inputs["steps"]):
            time.sleep(inputs["pause"])
            run.advance()
        return {}


class Broken(BackgroundTask):
    name = "broken"
    label = "Break"

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        raise RuntimeError("a secret path /srv/app/x.py that no user should read")


class Liar(BackgroundTask):
    name = "liar"
    label = "Return what is not declared"
    outputs: ClassVar[dict[str, Parameter]] = {"count": IntParameter()}

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        return {"count": "many"}
