"""What a background task class declares, and what its `run` may do while it works.

A task class names itself, declares its typed inputs and outputs (`webapp.tasks.inputs`),
may refuse a start its user may not make (`check`), and implements `run`, which receives a
`TaskRun`: it sets a target, advances, writes messages and a sub-state, adds artifacts,
starts child tasks (a container), and sees a cancel at its next call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from webapp.tasks.inputs import Parameter, schema_of

if TYPE_CHECKING:
    from webapp.tasks.run import TaskRun


class InputError(Exception):
    """Inputs refused, with a message per input (what the API answers as a 400)."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in problems.items()))
        self.problems = problems


class TaskFailed(Exception):
    """The task cannot do its work, for a reason its user can read."""


class TaskCancelled(Exception):
    """The task was cancelled (or ended otherwise) while it ran: its run stops here."""


class BackgroundTask:
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[dict[str, Parameter]] = {}
    outputs: ClassVar[dict[str, Parameter]] = {}
    # Work on everyone's data (the purge) is for administrators.
    admin_only: ClassVar[bool] = False
    # False for the app's own work (an async flow): not listed for users to start.
    offered: ClassVar[bool] = True
    # How long one run may take before RQ stops it.
    timeout_seconds: ClassVar[int] = 3600

    @classmethod
    def input_schema(cls) -> Schema:
        return _schema(cls, "inputs")

    @classmethod
    def output_schema(cls) -> Schema:
        return _schema(cls, "outputs")

    @classmethod
    def load_inputs(cls, inputs: Any) -> dict[str, Any]:
        """The inputs, checked and with their defaults, or InputError."""
        if not isinstance(inputs, dict):
            raise InputError({"inputs": [_("Give the inputs as a JSON object.")]})
        try:
            loaded: dict[str, Any] = cls.input_schema().load(inputs)
        except ValidationError as exc:
            raise InputError(_flat(exc.messages)) from exc
        return loaded

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        """Refuse (InputError) a start this user may not make, before it is queued."""

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any] | None:
        """Do the work; return the outputs (None for none, or for a container, whose
        outcome is its children's)."""
        raise NotImplementedError


_SCHEMAS: dict[tuple[type[BackgroundTask], str], Schema] = {}


def _schema(task_class: type[BackgroundTask], side: str) -> Schema:
    """One schema per task class and side, made on first use."""
    key = (task_class, side)
    if key not in _SCHEMAS:
        parameters = task_class.inputs if side == "inputs" else task_class.outputs
        title = "".join(part.title() for part in task_class.name.split("_"))
        _SCHEMAS[key] = schema_of(f"{title}{side.title()}", parameters)
    return _SCHEMAS[key]


def _flat(messages: Any) -> dict[str, list[str]]:
    """marshmallow's messages (nested for lists: {"urls": {2: ["Not a URL."]}}) as one list
    per input."""
    if not isinstance(messages, dict):
        return {"inputs": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            flat[str(key)] = [
                _("Item %(n)s: %(problem)s", n=int(index) + 1, problem=_joined(texts))
                if isinstance(index, int)
                else f"{index}: {_joined(texts)}"
                for index, texts in value.items()
            ]
        else:
            flat[str(key)] = [str(text) for text in _listed(value)]
    return flat


def _listed(texts: Any) -> list[Any]:
    """marshmallow gives one message alone, several in a list."""
    return texts if isinstance(texts, list) else [texts]


def _joined(texts: Any) -> str:
    return " ".join(str(text) for text in _listed(texts))
