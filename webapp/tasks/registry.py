"""The background task classes this installation runs: named in BACKGROUND_TASKS, each a
built-in name, an entry point of the `scriptorium.tasks` group (third parties' tasks), or a
`module:Class` path."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import cast

from flask import Flask, current_app

from webapp.tasks.base import BackgroundTask

ENTRY_POINT_GROUP = "scriptorium.tasks"
BUILT_IN = {
    "export_results": "webapp.tasks.export:ExportResults",
    "import_manifests": "webapp.tasks.imports:ImportManifests",
    "import_manifest": "webapp.tasks.imports:ImportManifest",
    "purge": "webapp.tasks.purging:Purge",
}


def _load(name: str) -> type[BackgroundTask]:
    plugins = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    if name in plugins:
        loaded = plugins[name].load()
    else:
        path = BUILT_IN.get(name, name)
        module, _, attribute = path.partition(":")
        if not attribute:
            raise LookupError(f"No background task is named {name!r}.")
        loaded = getattr(import_module(module), attribute)
    if not (isinstance(loaded, type) and issubclass(loaded, BackgroundTask)):
        raise TypeError(f"Background task {name!r} is not a BackgroundTask class.")
    return loaded


def load_tasks(names: list[str]) -> dict[str, type[BackgroundTask]]:
    loaded = [_load(name) for name in names]
    return {task_class.name: task_class for task_class in loaded}


def init_tasks(app: Flask) -> None:
    app.extensions["background_tasks"] = load_tasks(app.config["BACKGROUND_TASKS"])


def background_tasks() -> dict[str, type[BackgroundTask]]:
    return cast(dict[str, type[BackgroundTask]], current_app.extensions["background_tasks"])
