"""JSON that the database can keep: no NUL character, no unpaired surrogate, no NaN or
infinity, no integer past 64 bits, no nesting past 64 levels (PostgreSQL refuses them all;
SQLite would keep what PostgreSQL then cannot read back)."""

from __future__ import annotations

import json
import math
from typing import Any


class Unstorable(ValueError):
    """A JSON value no database column can keep."""


def _refuse_constant(name: str) -> Any:
    raise Unstorable(f"{name} is not a number JSON allows.")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise Unstorable(f"{text[:40]} is too large a number.")
    return value


def check_storable(value: Any, depth: int = 0) -> None:
    """NUL characters and lone surrogates cannot be stored (PostgreSQL refuses them)."""
    if depth > 64:
        raise Unstorable("it is nested too deeply.")
    if isinstance(value, str):
        if "\x00" in value:
            raise Unstorable("a text holds a NUL character.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unstorable("a text holds an unpaired surrogate.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, depth + 1)
            check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_storable(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise Unstorable("an integer is too large.")


def storable_json(raw: bytes) -> Any:
    """The JSON body, or Unstorable saying what no column can keep, or ValueError when it is
    not JSON at all."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except Unstorable:
        raise
    except RecursionError as exc:
        raise Unstorable("it is nested too deeply.") from exc
    except ValueError as exc:
        raise ValueError("The body is not JSON.") from exc
    check_storable(data)
    return data
