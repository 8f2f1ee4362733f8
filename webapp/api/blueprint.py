"""What every resource of the API shares: who may call it, and 400 for bad input."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from webapp.api.auth import authenticate, forget


class Parser(FlaskParser):
    """Bad input is a 400 (DESIGN 9), with a message per field."""

    DEFAULT_VALIDATION_STATUS = 400


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)
        self.teardown_request(forget)
