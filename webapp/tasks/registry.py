"""The background task classes this installation runs: named in BACKGROUND_TASKS, each a
built-in name, an entry point of the `scriptorium.tasks` group (third parties' tasks), or a
`module:Class` path."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from webapp.plugins import load_class
from webapp.tasks.base import BackgroundTask

ENTRY_POINT_GROUP = "scriptorium.tasks"
APP_OWN = ["flow"]
BUILT_IN = {
    "export_results": "webapp.tasks.export:ExportResults",
    "import_manifests": "webapp.tasks.imports:ImportManifests",
    "import_manifest": "webapp.tasks.imports:ImportManifest",
    "purge": "webapp.tasks.purging:Purge",
    "flow": "webapp.flows.task:RunFlow",
}


def load_tasks(names: list[str]) -> dict[str, type[BackgroundTask]]:
    loaded = [load_class(name, ENTRY_POINT_GROUP, BUILT_IN, BackgroundTask) for name in names]
    return {task_class.name: task_class for task_class in loaded}


def init_tasks(app: Flask) -> None:
    # Async flows run as tasks whatever else is installed.
    names = [*app.config["BACKGROUND_TASKS"], *APP_OWN]
    app.extensions["background_tasks"] = load_tasks(names)


def background_tasks() -> dict[str, type[BackgroundTask]]:
    return cast(dict[str, type[BackgroundTask]], current_app.extensions["background_tasks"])


def offered_tasks() -> dict[str, type[BackgroundTask]]:
    """The tasks users may start themselves."""
    return {name: task for name, task in background_tasks().items() if task.offered}
