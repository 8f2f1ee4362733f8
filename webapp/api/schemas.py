"""Schemas shared by the API's resources."""

from __future__ import annotations

from typing import NoReturn

from flask_smorest import abort
from marshmallow import Schema, fields, validate


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "The HTTP status's name"})
    message = fields.String(required=True, metadata={"description": "What went wrong"})
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "A message per bad field, by field"},
    )


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


def invalid(problems: dict[str, list[str]]) -> NoReturn:
    """422 with a message per bad field, in the API's one error shape."""
    abort(422, message="Some fields are not valid.", errors=problems)
    raise AssertionError("abort returned")
