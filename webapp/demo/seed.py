"""Put the demo corpus in the database: idempotent, deterministic for a seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp import storage
from webapp.auth.accounts import create_user, find_user
from webapp.auth.models import User
from webapp.catalog.models import Digitization, Page, Series, Witness, Work
from webapp.columns import get_or_create
from webapp.demo.corpus import (
    DEFAULT_SEED,
    PAGES_PER_WITNESS,
    SERIES,
    WORKS,
    DemoWitness,
    plan_corpus,
    render_witness,
)
from webapp.document_sets.models import DocumentSet
from webapp.extensions import db

DEMO_EMAIL = "demo@scriptorium.example"
DEMO_PASSWORD = "scriptorium-demo"  # noqa: S105 - printed to the user; a demo account only
DEMO_SET_TITLE = "Demo set: astronomical diagrams"


@dataclass
class SeedReport:
    user: User
    document_set: DocumentSet
    witnesses: int
    pages: int
    created_pages: int
    ground_truth: Path


def _suffix(seed: int) -> str:
    return "" if seed == DEFAULT_SEED else f" (seed {seed})"


def _demo_user() -> User:
    return find_user(DEMO_EMAIL) or create_user(DEMO_EMAIL, DEMO_PASSWORD, name="Demo researcher")


def _demo_witness(
    plan: DemoWitness, suffix: str, user: User, works: list[Work], series: list[Series]
) -> tuple[Witness, Digitization]:
    witness, created = get_or_create(
        Witness,
        {
            "kind": plan.kind,
            "place": plan.place,
            "date": plan.date,
            "created_by_id": user.id,
            "series_id": series[plan.series].id if plan.series is not None else None,
        },
        siglum=f"Demo {plan.siglum}{suffix}",
    )
    if created:
        witness.works = [works[i] for i in plan.works]
    if witness.digitizations:
        return witness, witness.digitizations[0]
    digitization = Digitization(
        witness=witness,
        source="img",
        label="Demo scan",
        pages_total=len(plan.plans),
        pages_done=len(plan.plans),
        created_by_id=user.id,
    )
    db.session.add(digitization)
    db.session.flush()
    return witness, digitization


def _render_missing(
    seed: int, index: int, plan: DemoWitness, digitization: Digitization
) -> tuple[int, list[dict[str, Any]]]:
    """Store the pages not stored yet; returns how many, and every page's ground truth."""
    existing = {page.order for page in digitization.pages}
    created = 0
    truth = []
    for page in render_witness(seed, index, plan):
        if page.order not in existing:
            path, width, height = storage.save_page_image(digitization.id, page.order, page.image)
            db.session.add(
                Page(
                    digitization_id=digitization.id,
                    order=page.order,
                    width=width,
                    height=height,
                    file=path,
                    label=f"f. {page.order}",
                )
            )
            created += 1
        truth.append(
            {
                "ref": f"{digitization.ref}_{page.order:04d}",
                "witness": digitization.witness.siglum,
                "order": page.order,
                "width": page.image.width,
                "height": page.image.height,
                "regions": [
                    {"kind": r.kind, "box": list(r.box), "diagram": r.diagram} for r in page.regions
                ],
            }
        )
    db.session.commit()
    return created, truth


def seed_demo(seed: int = DEFAULT_SEED, pages_per_witness: int = PAGES_PER_WITNESS) -> SeedReport:
    """Create what is missing of the demo corpus; pages are drawn only when some are missing."""
    user = _demo_user()
    suffix = _suffix(seed)
    plans, _ = plan_corpus(seed, pages_per_witness)
    works = [
        get_or_create(
            Work, {"author": author, "date": date, "created_by_id": user.id}, title=title + suffix
        )[0]
        for title, author, date in WORKS
    ]
    series = [
        get_or_create(
            Series, {"description": description, "created_by_id": user.id}, title=title + suffix
        )[0]
        for title, description in SERIES
    ]
    pairs = [_demo_witness(plan, suffix, user, works, series) for plan in plans]
    document_set, created = get_or_create(
        DocumentSet, {}, title=DEMO_SET_TITLE + suffix, owner_id=user.id
    )
    if created:
        document_set.series = series
        document_set.witnesses = [w for w, _ in pairs if w.series_id is None]
    db.session.commit()

    truth_path = storage.storage_root() / "demo" / f"ground_truth_seed{seed}.json"
    complete = all(
        len(d.pages) == len(plan.plans) for (_, d), plan in zip(pairs, plans, strict=True)
    )
    created_pages = 0
    if not (complete and truth_path.exists()):
        truth_pages: list[dict[str, Any]] = []
        for index, (plan, (_, digitization)) in enumerate(zip(plans, pairs, strict=True)):
            count, truth = _render_missing(seed, index, plan, digitization)
            created_pages += count
            truth_pages += truth
        truth_doc = {
            "seed": seed,
            "kinds": ["illustration", "diagram", "initial"],
            "pages": truth_pages,
        }
        storage.write_atomically(truth_path, json.dumps(truth_doc, indent=1).encode())
    pages = sum(len(plan.plans) for plan in plans)
    return SeedReport(user, document_set, len(pairs), pages, created_pages, truth_path)
