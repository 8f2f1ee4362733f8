"""What every resource of the API shares: who may call it, and 400 for bad input."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort
from webargs.flaskparser import FlaskParser

from webapp.api.auth import authenticate, forget
from webapp.storable import Unstorable, storable_json


class Parser(FlaskParser):
    """Bad input is a 400 (DESIGN 9), with a message per field."""

    DEFAULT_VALIDATION_STATUS = 400


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)
        self.before_request(refuse_unstorable)
        self.teardown_request(forget)


def refuse_unstorable() -> None:
    """A JSON body holding what no column can keep (a NUL character, a lone surrogate) is a
    400 saying so, before any schema reads it."""
    if request.is_json and request.get_data():
        try:
            storable_json(request.get_data())
        except Unstorable as exc:
            abort(400, message=f"The body cannot be stored: {exc}")
        except ValueError:
            return  # not JSON: the schema's parser says so
