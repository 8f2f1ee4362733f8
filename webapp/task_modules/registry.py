"""The modules this installation runs: built-in ones named in TASK_MODULES, and third parties'
through the `scriptorium.task_modules` entry-point group."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import cast

from flask import Flask, abort, current_app

from webapp.task_modules.base import TaskModule

ENTRY_POINT_GROUP = "scriptorium.task_modules"


def load_modules(names: list[str]) -> dict[str, TaskModule]:
    found: dict[str, TaskModule] = {}
    plugins = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    for name in names:
        if name in plugins:
            loaded = plugins[name].load()
            module = loaded() if isinstance(loaded, type) else loaded
        else:
            module = import_module(f"webapp.task_modules.{name}").MODULE
        if not isinstance(module, TaskModule):
            raise TypeError(f"Task module {name!r} is not a TaskModule.")
        found[module.name] = module
    return found


def init_registry(app: Flask) -> None:
    app.extensions["task_modules"] = load_modules(app.config["TASK_MODULES"])


def task_modules() -> dict[str, TaskModule]:
    return cast(dict[str, TaskModule], current_app.extensions["task_modules"])


def task_module(name: str) -> TaskModule:
    return task_modules()[name]


def task_module_or_404(name: str) -> TaskModule:
    module = task_modules().get(name)
    if module is None:
        abort(404)
    return module
