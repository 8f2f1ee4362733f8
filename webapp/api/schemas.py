"""Schemas shared by the API's resources."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, NoReturn, TypeVar

from flask_babel import gettext as _
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import Select

from webapp.errors import QuotaExceeded, UserError
from webapp.extensions import db


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


# What an operation asks of its caller: a personal token (or the app's session).
TOKEN: list[dict[str, list[str]]] = [{"token": []}]


@cache
def page_schema(schema: type[Schema]) -> type[Schema]:
    """The schema of one page of a listing of `schema`: one class per schema, so that the
    OpenAPI document names it once."""
    return type(
        f"{schema.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            "items": fields.List(fields.Nested(schema), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
    )


def listing(
    stmt: Select[Any], args: dict[str, Any], describe: Callable[[Any], Any], **columns: Any
) -> dict[str, Any]:
    """One page of `stmt`, each row described, filtered by the query's arguments: `columns`
    names the column each argument filters."""
    for name, column in columns.items():
        if args.get(name):
            stmt = stmt.where(column == args[name])
    page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    return page_json([describe(row) for row in page.items], page)


def page_json(items: list[Any], page: Any) -> dict[str, Any]:
    """One page of a listing, its items already as JSON."""
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total or 0}


def invalid(problems: dict[str, list[str]]) -> NoReturn:
    """400 with a message per bad field, in the API's one error shape."""
    abort(400, message=_("Some fields are not valid."), errors=problems)
    raise AssertionError("abort returned")


W = TypeVar("W")


def acted(work: W, action: Callable[[W], Any]) -> W:
    """Do what a user asked of some work; a rule that refuses it (it has ended, it still
    runs) is a 409 with the rule's message."""
    try:
        return action(work) or work
    except QuotaExceeded as exc:
        over_quota(exc)
    except UserError as exc:
        conflict(str(exc))


def over_quota(exc: QuotaExceeded) -> NoReturn:
    """403 with the quota's message (what is used, what is left), in the API's error shape."""
    abort(403, message=str(exc))
    raise AssertionError("abort returned")


def conflict(message: str) -> NoReturn:
    """409 with the rule's message, in the API's one error shape."""
    abort(409, message=message)
    raise AssertionError("abort returned")
