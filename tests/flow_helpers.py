"""What the flow tests share: the database and storage as they are, a step made to fail, a
step made to wait, and a manifest served to import."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from tests.factories import image_bytes, quadrant_image
from webapp.extensions import db
from webapp.flows.engine import Flow, FlowContext

# The flows' own journal and the timeline change as they run; all else must be as it was.
JOURNAL = {"flows", "flow_locks", "tasks", "task_events", "task_artifacts", "timeline"}


def snapshot(app: Flask) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every row of every table but the journal's, and every stored file with its digest."""
    db.session.expire_all()
    rows = {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(table.select()))
        for table in db.metadata.sorted_tables
        if table.name not in JOURNAL
    }
    root = Path(app.config["STORAGE_DIR"])
    files = {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
    return rows, files


def flow_files(app: Flask) -> list[Path]:
    """What flows keep aside or prepare: nothing once they have ended."""
    folder = Path(app.config["STORAGE_DIR"]) / "flows"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


class Injected(RuntimeError):
    """The error a test injects into a step."""


def fail_after(monkeypatch: pytest.MonkeyPatch, flow_class: type[Flow], index: int) -> str:
    """Make the flow's step `index` fail once it has done its work; the step's name."""
    original = flow_class.steps

    def steps(self: Flow) -> list[Any]:
        found = original(self)
        step = found[index]

        def failing(context: FlowContext) -> None:
            step.do(context)
            raise Injected(f"injected into {step.name}")

        found[index] = dataclasses.replace(step, do=failing)
        return found

    monkeypatch.setattr(flow_class, "steps", steps)
    return str(original(flow_class())[index].name)


def hold_at(
    monkeypatch: pytest.MonkeyPatch, flow_class: type[Flow], index: int
) -> tuple[threading.Event, threading.Event]:
    """Make the flow's step `index` wait, once done, until released, in the first flow of
    that class only: (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    original = flow_class.steps

    def steps(self: Flow) -> list[Any]:
        found = original(self)
        step = found[index]

        def held(context: FlowContext) -> None:
            step.do(context)
            if not reached.is_set():
                reached.set()
                assert release.wait(30), "never released"

        found[index] = dataclasses.replace(step, do=held)
        return found

    monkeypatch.setattr(flow_class, "steps", steps)
    return reached, release


def serve_manifest(
    httpserver: HTTPServer,
    pages: int = 2,
    broken: int | None = None,
    elsewhere: dict[int, str] | None = None,
) -> str:
    """A v2 manifest of `pages` images; page `broken` (from 1) is not an image; the pages of
    `elsewhere` come from the URL given (a server that hangs, for one)."""
    base = httpserver.url_for("").rstrip("/")
    canvases = []
    for order in range(1, pages + 1):
        url = (elsewhere or {}).get(order) or f"{base}/image/{order}.png"
        canvases.append(
            {
                "@type": "sc:Canvas",
                "label": f"f. {order}r",
                "width": 300,
                "height": 200,
                "images": [{"resource": {"@id": url, "@type": "dctypes:Image"}}],
            }
        )
        body = b"not an image" if order == broken else image_bytes(quadrant_image(300, 200))
        httpserver.expect_request(f"/image/{order}.png").respond_with_data(
            body, content_type="image/png"
        )
    httpserver.expect_request("/manifest.json").respond_with_json(
        {
            "@context": "http://iiif.io/api/presentation/2/context.json",
            "@id": f"{base}/manifest.json",
            "@type": "sc:Manifest",
            "label": "Vat. lat. 3867",
            "sequences": [{"@type": "sc:Sequence", "canvases": canvases}],
        }
    )
    return f"{base}/manifest.json"
