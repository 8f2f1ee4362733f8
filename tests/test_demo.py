from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import AuthActions, json_body
from webapp import storage
from webapp.catalog.models import Digitization, Page, Series, Witness, Work
from webapp.demo.corpus import DEFAULT_SEED, plan_corpus, render_witness
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db


def test_the_corpus_plan_meets_the_brief() -> None:
    witnesses, templates = plan_corpus(DEFAULT_SEED)
    assert len(witnesses) >= 6
    assert len({w.series for w in witnesses if w.series is not None}) == 2
    assert sum(len(w.plans) for w in witnesses) >= 60
    for template in templates:
        holders = [
            w for w in witnesses if any(t is template for p in w.plans for _, t in p.figures)
        ]
        assert len(holders) >= 2, template.key


def _overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_pages_look_like_manuscript_pages_and_match_their_ground_truth() -> None:
    witnesses, _ = plan_corpus(DEFAULT_SEED, pages_per_witness=3)
    kinds: set[str] = set()
    for index, witness in enumerate(witnesses[:3]):
        for page in render_witness(DEFAULT_SEED, index, witness):
            pixels = np.asarray(page.image.convert("L"), dtype=np.float32)
            height, width = pixels.shape
            assert pixels[: height // 20].mean() > 150  # a blank top margin of parchment
            boxes = [[*r.box] for r in page.regions]
            for region, box in zip(page.regions, boxes, strict=True):
                kinds.add(region.kind)
                x, y, w, h = box
                assert x >= 0
                assert y >= 0
                assert x + w <= width
                assert y + h <= height
                inside = pixels[y : y + h, x : x + w]
                assert inside.std() > 20, region  # something is drawn in every box
            assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert kinds == {"illustration", "diagram", "initial"}


def test_rendering_is_deterministic() -> None:
    witnesses, _ = plan_corpus(11, pages_per_witness=1)
    first = next(render_witness(11, 0, witnesses[0]))
    again = next(render_witness(11, 0, plan_corpus(11, pages_per_witness=1)[0][0]))
    assert np.array_equal(np.asarray(first.image), np.asarray(again.image))
    other = next(render_witness(12, 0, plan_corpus(12, pages_per_witness=1)[0][0]))
    assert not np.array_equal(
        np.asarray(first.image.resize((50, 70))), np.asarray(other.image.resize((50, 70)))
    )


def _snapshot() -> dict[str, object]:
    counts = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Work, Series, Witness, Digitization, Page, DocumentSet)
    }
    files = {
        str(p.relative_to(storage.storage_root())): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(storage.storage_root().rglob("*"))
        if p.is_file()
    }
    return {"counts": counts, "files": files}


def test_seeding_creates_the_demo_and_running_it_twice_changes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    report = seed_demo(DEFAULT_SEED, pages_per_witness=2)
    assert (report.witnesses, report.pages, report.created_pages) == (6, 12, 12)
    before = _snapshot()
    again = seed_demo(DEFAULT_SEED, pages_per_witness=2)
    assert again.created_pages == 0
    assert _snapshot() == before

    truth = json.loads(Path(report.ground_truth).read_text())
    assert len(truth["pages"]) == 12
    first = truth["pages"][0]
    assert first["ref"].endswith("_0001")
    page = db.session.scalar(select(Page).order_by(Page.id))
    assert page is not None
    assert first["ref"] == page.ref
    assert (first["width"], first["height"]) == (page.width, page.height)

    auth.login(DEMO_EMAIL, DEMO_PASSWORD)
    sets = client.get("/sets/").get_data(as_text=True)
    assert report.document_set.title in sets
    detail = client.get(f"/sets/{report.document_set.id}").get_data(as_text=True)
    assert "6</strong> witnesses" in detail
    assert "12</strong> pages" in detail
    manifest = json_body(client.get(f"/iiif/{page.digitization.ref}/manifest.json"))
    assert len(manifest["sequences"][0]["canvases"]) == 2
    with client.get(f"/iiif/image/{page.ref}/full/max/0/default.jpg") as response:
        assert Image.open(io.BytesIO(response.data)).size == (page.width, page.height)


def test_another_seed_makes_another_corpus_beside_the_default(app: Flask) -> None:
    seed_demo(DEFAULT_SEED, pages_per_witness=1)
    report = seed_demo(3, pages_per_witness=1)
    assert report.created_pages == 6
    assert "seed 3" in report.document_set.title
    assert db.session.scalar(select(func.count()).select_from(Witness)) == 12


def test_demo_seed_command(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--pages-per-witness", "1"])
    assert result.exit_code == 0, result.output
    assert DEMO_EMAIL in result.output
    assert DEMO_PASSWORD in result.output
    assert "6 witnesses, 6 pages (6 new)" in result.output
    bad = app.test_cli_runner().invoke(args=["demo", "seed", "--seed", "x"])
    assert bad.exit_code == 2
