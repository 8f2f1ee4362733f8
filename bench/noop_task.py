"""The background task `bench/api.py` starts and drains: it does nothing, so that what is
measured is what surrounds a task."""

from __future__ import annotations

from typing import Any

from webapp.tasks.base import BackgroundTask


class NoopTask(BackgroundTask):
    name = "noop"
    label = "Nothing"

    def run(self, run: Any, **inputs: Any) -> None:
        """Nothing to do."""
