"""Typed inputs and outputs of background tasks: int, number, string, bool, choice, list of T,
dict; each required or with a default.

A parameter is a marshmallow field in the making: a task's inputs become the schema that
checks a start (a message per bad input) and describes it in the OpenAPI document, so that
what is documented is what is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, fields, validate

# A list or a dict an integrator sends is kept in the task's row: bounded, like every input.
MAX_ITEMS = 1000
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Parameter:
    """One input or output. Without a default it is required; `default=None` makes it
    optional with no value."""

    label: str = ""
    help: str = ""
    default: Any = field(default=..., kw_only=True)

    field_class: ClassVar[type[fields.Field[Any]]] = fields.Raw

    @property
    def required(self) -> bool:
        return self.default is ...

    def validators(self) -> list[Any]:
        return []

    def options(self) -> dict[str, Any]:
        return {}

    def field(self) -> fields.Field[Any]:
        """The marshmallow field that checks and documents this parameter."""
        metadata = {"description": self.help or self.label}
        presence: dict[str, Any] = (
            {"required": True}
            if self.required
            else {"load_default": self.default, "allow_none": self.default is None}
        )
        return self.build(validate=self.validators(), metadata=metadata, **presence)

    def build(self, **common: Any) -> fields.Field[Any]:
        return self.field_class(**common, **self.options())


@dataclass(frozen=True)
class IntParameter(Parameter):
    min: int | None = None
    max: int | None = None

    field_class = fields.Integer

    def options(self) -> dict[str, Any]:
        return {"strict": True}

    def validators(self) -> list[Any]:
        bounded = self.min is not None or self.max is not None
        return [validate.Range(self.min, self.max)] if bounded else []


@dataclass(frozen=True)
class NumberParameter(Parameter):
    min: float | None = None
    max: float | None = None

    field_class = fields.Float

    def options(self) -> dict[str, Any]:
        return {"allow_nan": False}

    def validators(self) -> list[Any]:
        bounded = self.min is not None or self.max is not None
        return [validate.Range(self.min, self.max)] if bounded else []


@dataclass(frozen=True)
class StringParameter(Parameter):
    max_length: int = MAX_TEXT
    blank: bool = False

    field_class = fields.String

    def validators(self) -> list[Any]:
        return [validate.Length(0 if self.blank else 1, self.max_length)]


@dataclass(frozen=True)
class BoolParameter(Parameter):
    field_class = fields.Boolean

    def options(self) -> dict[str, Any]:
        # JSON has true and false: "yes" or 1 is a mistake to point out, not to guess.
        return {"truthy": {True}, "falsy": {False}}


@dataclass(frozen=True)
class ChoiceParameter(Parameter):
    choices: tuple[str, ...] = ()

    field_class = fields.String

    def validators(self) -> list[Any]:
        return [validate.OneOf(self.choices)]


@dataclass(frozen=True)
class ListParameter(Parameter):
    of: Parameter = field(default_factory=StringParameter)
    min_items: int = 0
    max_items: int = MAX_ITEMS

    def validators(self) -> list[Any]:
        return [validate.Length(self.min_items, self.max_items)]

    def build(self, **common: Any) -> fields.Field[Any]:
        inner = self.of.field()
        inner.required, inner.allow_none = True, False
        return fields.List(inner, **common)


@dataclass(frozen=True)
class DictParameter(Parameter):
    """A JSON object with string keys."""

    max_items: int = MAX_ITEMS

    field_class = fields.Dict

    def validators(self) -> list[Any]:
        return [validate.Length(max=self.max_items)]

    def options(self) -> dict[str, Any]:
        return {"keys": fields.String()}


def schema_of(name: str, parameters: dict[str, Parameter]) -> Schema:
    """The schema of a task's inputs (or outputs); unknown names are refused."""
    schema_class = Schema.from_dict(
        {key: parameter.field() for key, parameter in parameters.items()}, name=name
    )
    return schema_class()
