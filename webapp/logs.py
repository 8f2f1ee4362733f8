"""Logging: every line says which treatment it is about, when it is about one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
current_treatment: ContextVar[str] = ContextVar("current_treatment", default="-")
FORMAT = "%(asctime)s %(levelname)s %(name)s [treatment %(treatment)s]: %(message)s"


class TreatmentFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.treatment = current_treatment.get()
        return True


def about_treatment(function: Callable[P, R]) -> Callable[P, R]:
    """For jobs and views whose first argument is a treatment id: their log lines carry it."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        first = args[0] if args else next(iter(kwargs.values()), "-")
        token = current_treatment.set(str(first))
        try:
            return function(*args, **kwargs)
        finally:
            current_treatment.reset(token)

    return run


def init_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TreatmentFilter) for f in handler.filters):
            handler.addFilter(TreatmentFilter())
