"""Result ingest: a similarity result of 100,000 pairs and a regions result of 5,000 regions.

Stores each through its module, as a notification's apply job does (parse, check, store,
commit), on PostgreSQL; then stores it again, which must leave the same rows. Next to each, in
the same run and the same tables, a raw psycopg `executemany` of the same rows, prepared in
advance: the floor of what storing them costs. Prints seconds, rows per second and the ratio.

    python -m bench.ingest [--pairs 100000] [--regions 5000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import select

from bench.database import libpq, postgres_database
from bench.server import forget_keys

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PAGES = 100


@dataclass
class Run:
    name: str
    rows: int
    ours: list[float] = field(default_factory=list)
    again: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Rate against the raw rate: the raw median time over ours."""
        return statistics.median(self.raw) / statistics.median(self.ours)


@dataclass
class Kind:
    """A result to store: its module, file and document, and where its rows go."""

    name: str
    task: str
    content: bytes
    uid: str
    table: Any
    owner: str  # the column that ties a row to its treatment, directly or not
    owner_of: Callable[[Any], Any]  # that column's value for a treatment's stored rows
    new_owner: Callable[[Any], Any]  # a value of it for a copy's rows


def _timed(step: Callable[[], Any]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def _similarity_result(pairs: int) -> bytes:
    """AIKON's shape: an index of crops and [i, j, score, …] rows, each pair once."""
    images = max(2, int((2 * pairs) ** 0.5) + 2)
    rng = random.Random(7)
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < pairs:
        i, j = sorted(rng.sample(range(images), 2))
        chosen.add((i, j))
    return json.dumps(
        {
            "index": {"images": [{"id": f"crop{n:06d}"} for n in range(images)]},
            "pairs": [[i, j, round(rng.uniform(0.5, 1.0), 4), 0, 0] for i, j in sorted(chosen)],
        }
    ).encode()


def _regions_result(uid: str, regions: int) -> bytes:
    per_page = -(-regions // PAGES)
    return json.dumps(
        [
            {
                "source": f"{uid}_{page:04d}",
                "crops": [
                    {
                        "confidence": 0.9,
                        "absolute": {
                            "x1": 10 * n,
                            "y1": 5 * n,
                            "x2": 10 * n + 40,
                            "y2": 5 * n + 30,
                        },
                        "class": {"label": "diagram"},
                    }
                    for n in range(min(per_page, regions - (page - 1) * per_page))
                ],
            }
            for page in range(1, PAGES + 1)
            if (page - 1) * per_page < regions
        ]
    ).encode()


def _raw_executemany(url: str, table: str, rows: list[dict[str, Any]]) -> float:
    """The same rows by hand: one psycopg executemany and a commit."""
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from this file
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    values = [tuple(row[c] for c in columns) for row in rows]
    with psycopg.connect(libpq(url)) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.executemany(sql, values)
        conn.commit()
        return time.perf_counter() - started


def _measure(url: str, pairs: int, regions: int, rounds: int) -> list[Run]:
    os.environ["DATABASE_URL"] = url
    from webapp import create_app
    from webapp.auth.models import User
    from webapp.catalog.models import Digitization, Page, Witness
    from webapp.extensions import db
    from webapp.task_modules.regions.models import Region, RegionSet
    from webapp.task_modules.registry import task_module
    from webapp.task_modules.similarity.models import SimilarityPair
    from webapp.treatments.models import Treatment

    app = create_app()
    with app.app_context():
        user = User(email="bench@example.org", name="Bench", password_hash="-")  # noqa: S106
        witness = Witness(siglum="Bench, MS 1")
        digitization = Digitization(witness=witness, source="img", pages_total=PAGES)
        digitization.pages = [
            Page(order=n, width=4000, height=3000, file=f"{n}.jpg") for n in range(1, PAGES + 1)
        ]
        db.session.add_all([user, witness, digitization])
        db.session.commit()

        def new_treatment(task: str) -> Treatment:
            row = Treatment(
                task_type=task,
                owner_id=user.id,
                parameters={"threshold": 0.5},
                documents=[{"uid": digitization.ref}],
                status="IN_PROGRESS",
            )
            db.session.add(row)
            db.session.commit()
            return row

        def new_region_set(treatment: Treatment) -> int:
            row = RegionSet(treatment_id=treatment.id, digitization_id=digitization.id)
            db.session.add(row)
            db.session.commit()
            return row.id

        kinds = [
            Kind(
                "similarity pairs",
                "similarity",
                _similarity_result(pairs),
                "pair",
                SimilarityPair.__table__,
                "treatment_id",
                lambda treatment: treatment.id,
                lambda treatment: treatment.id,
            ),
            Kind(
                "regions",
                "regions",
                _regions_result(digitization.ref, regions),
                digitization.ref,
                Region.__table__,
                "region_set_id",
                lambda treatment: db.session.scalar(
                    select(RegionSet.id).where(RegionSet.treatment_id == treatment.id)
                ),
                new_region_set,
            ),
        ]

        def stored(kind: Kind, treatment: Treatment) -> list[dict[str, Any]]:
            query = select(kind.table).where(kind.table.c[kind.owner] == kind.owner_of(treatment))
            return [dict(row) for row in db.session.execute(query).mappings()]

        runs = []
        for kind in kinds:
            run = Run(kind.name, 0)
            for _ in range(rounds):
                treatment = new_treatment(kind.task)

                def store(kind: Kind = kind, treatment: Treatment = treatment) -> None:
                    task_module(kind.task).process_results(treatment, kind.uid, kind.content)
                    db.session.commit()

                run.ours.append(_timed(store))
                rows = stored(kind, treatment)
                run.again.append(_timed(store))
                assert stored(kind, treatment) == rows, "storing it again changed the rows"
                owner = kind.new_owner(new_treatment(kind.task))
                copies = [
                    {name: value for name, value in row.items() if name != "id"}
                    | {kind.owner: owner}
                    for row in rows
                ]
                run.raw.append(_raw_executemany(url, kind.table.name, copies))
                run.rows = len(rows)
            runs.append(run)
        return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--regions", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5, help="medians of this many runs")
    parser.add_argument("--quick", action="store_true", help="a short run that checks it works")
    args = parser.parse_args()
    pairs, regions = (5_000, 500) if args.quick else (args.pairs, args.regions)
    rounds = 1 if args.quick else args.rounds
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "REDIS_URL": REDIS, "REDIS_PREFIX": f"ingest{run}", "SECRET_KEY": "bench"}
    os.environ.update({k: env[k] for k in ("REDIS_URL", "REDIS_PREFIX", "SECRET_KEY")})
    try:
        with postgres_database(env) as url:
            runs = _measure(url, pairs, regions, rounds)
    finally:
        forget_keys(REDIS, f"ingest{run}*")
    print(
        "PostgreSQL; each result stored through its module (parse, check, store, commit), "
        f"then again; medians of {rounds} run(s)"
    )
    print(f"{'result':18} {'rows':>8} {'ours s':>7} {'rows/s':>8} {'again s':>7} {'raw s':>7}")
    for r in runs:
        ours, again, raw = (statistics.median(times) for times in (r.ours, r.again, r.raw))
        print(
            f"{r.name:18} {r.rows:>8} {ours:>7.2f} {r.rows / ours:>8.0f} {again:>7.2f} "
            f"{raw:>7.2f} (raw executemany: {r.rows / raw:.0f} rows/s)"
        )
    print(
        "ingest / raw executemany: "
        + ", ".join(f"{r.name} {r.ratio:.2f}" for r in runs)
        + " (aim: at least 0.50)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
