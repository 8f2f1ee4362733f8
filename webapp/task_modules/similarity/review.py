"""Reviewing similarity: researchers mark pairs (exact, partial, similar, no match), are asked
about matches that follow by transitivity, and see the recurring figures as clusters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.errors import UserError
from webapp.extensions import db
from webapp.task_modules.similarity.models import ALIKE, MARKS, PairMark, SimilarityPair
from webapp.treatments.models import Treatment

PROPOSALS_SHOWN = 50
Pair = tuple[str, str]


def ordered(a: str, b: str) -> Pair:
    first, second = sorted((a, b))
    return first, second


def _crops(treatment: Treatment) -> set[str]:
    rows = db.session.execute(
        select(SimilarityPair.a, SimilarityPair.b).where(
            SimilarityPair.treatment_id.in_(treatment.result_ids)
        )
    )
    return {crop for row in rows for crop in row}


def mark_pair(treatment: Treatment, user: Any, a: str, b: str, mark: str) -> None:
    """Set (or, with an empty mark, clear) the user's mark on two crops of the treatment."""
    if mark and mark not in MARKS:
        raise UserError(_("Choose exact match, partial match, similar or no match."))
    if not a or not b or a == b or not {a, b} <= _crops(treatment):
        raise UserError(_("Mark two different regions of this treatment's pairs."))
    a, b = ordered(a, b)
    found = select(PairMark).where(
        PairMark.treatment_id == treatment.id,
        PairMark.a == a,
        PairMark.b == b,
        PairMark.user_id == user.id,
    )
    current = db.session.scalar(found)
    if not mark:
        if current is not None:
            db.session.delete(current)
        db.session.commit()
        return
    if current is None:
        db.session.add(PairMark(treatment_id=treatment.id, a=a, b=b, user_id=user.id, mark=mark))
        try:
            db.session.commit()
            return
        except IntegrityError:
            # The same user marked the same pair at the same moment (two tabs): theirs stands,
            # and this mark replaces it.
            db.session.rollback()
            current = db.session.scalars(found).one()
    current.mark = mark
    db.session.commit()


def my_mark_filter(treatment: Treatment, user: Any, mark: str) -> ColumnElement[bool] | None:
    """The pairs the user gave this mark, or none (`unmarked`); None for any other value."""
    mine = exists().where(
        PairMark.treatment_id == treatment.id,
        PairMark.a == SimilarityPair.a,
        PairMark.b == SimilarityPair.b,
        PairMark.user_id == user.id,
    )
    if mark == "unmarked":
        return ~mine
    if mark in MARKS:
        return mine.where(PairMark.mark == mark)
    return None


def marks_on(treatment: Treatment, pairs: Iterable[Pair]) -> dict[Pair, list[PairMark]]:
    """Every mark on these pairs, by pair: everyone who may see the treatment sees them all."""
    wanted = list(pairs)
    if not wanted:
        return {}
    rows = db.session.scalars(
        select(PairMark)
        .where(
            PairMark.treatment_id == treatment.id,
            or_(*(and_(PairMark.a == a, PairMark.b == b) for a, b in wanted)),
        )
        .order_by(PairMark.at)
    )
    found: dict[Pair, list[PairMark]] = defaultdict(list)
    for row in rows:
        found[(row.a, row.b)].append(row)
    return found


def _my_marks(treatment: Treatment, user: Any) -> dict[Pair, str]:
    rows = db.session.execute(
        select(PairMark.a, PairMark.b, PairMark.mark).where(
            PairMark.treatment_id == treatment.id, PairMark.user_id == user.id
        )
    )
    return {(a, b): mark for a, b, mark in rows}


def proposals(treatment: Treatment, user: Any) -> list[tuple[str, str, str]]:
    """Matches that follow from the user's marks: A~B and B~C marked alike, A-C not marked
    yet, as (A, B, C)."""
    marks = _my_marks(treatment, user)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for (a, b), mark in marks.items():
        if mark in ALIKE:
            neighbours[a].add(b)
            neighbours[b].add(a)
    found: dict[Pair, tuple[str, str, str]] = {}
    for middle in sorted(neighbours):
        ends = sorted(neighbours[middle])
        for i, first in enumerate(ends):
            for last in ends[i + 1 :]:
                pair = ordered(first, last)
                if pair not in marks and pair not in found:
                    found[pair] = (pair[0], middle, pair[1])
    return list(found.values())[:PROPOSALS_SHOWN]


def clusters(treatment: Treatment, user: Any, link_score: float | None) -> list[list[str]]:
    """Recurring figures: the connected components of the crops linked by the user's alike
    marks and, if a score is given, by the pairs scoring at least that much, except those the
    user marked as no match. Largest first."""
    marks = _my_marks(treatment, user)
    links = {pair for pair, mark in marks.items() if mark in ALIKE}
    if link_score is not None:
        rows = db.session.execute(
            select(SimilarityPair.a, SimilarityPair.b).where(
                SimilarityPair.treatment_id.in_(treatment.result_ids),
                SimilarityPair.score >= link_score,
            )
        )
        links |= {(a, b) for a, b in rows if marks.get((a, b)) != "no"}
    parent: dict[str, str] = {}

    def root(crop: str) -> str:
        parent.setdefault(crop, crop)
        while parent[crop] != crop:
            parent[crop] = parent[parent[crop]]
            crop = parent[crop]
        return crop

    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for crop in parent:
        groups[root(crop)].append(crop)
    return sorted((sorted(group) for group in groups.values()), key=lambda g: (-len(g), g[0]))
