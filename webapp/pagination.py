"""One page of a listing, its number read from the query string: the first page for what is
no page number, an empty page past a listing's end, a 400 past LAST_PAGE, never an overflow
in the database."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from webapp.extensions import db

LAST_PAGE = 1_000_000


def page_number() -> int:
    text = request.args.get("page", "")
    if not (text.isascii() and text.isdigit()):
        return 1
    if len(text) > 7 or int(text) > LAST_PAGE:
        abort(400, f"page must be a number from 1 to {LAST_PAGE}.")
    return max(int(text), 1)


def paginate(stmt: Select[Any], per_page: int) -> Pagination:
    return db.paginate(stmt, page=page_number(), per_page=per_page, error_out=False)
