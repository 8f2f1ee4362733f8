"""Similar pairs as people look at them: side by side, above a score, sorted, per document."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, request
from flask_login import current_user
from sqlalchemy import Select, or_, select
from werkzeug.datastructures import MultiDict

from webapp.catalog.names import PageName, digitization_name, page_names
from webapp.catalog.refs import parse_crop_id
from webapp.exports import csv_download
from webapp.extensions import db
from webapp.i18n import N_
from webapp.iiif.links import crop_url
from webapp.pagination import paginate
from webapp.task_modules.similarity.models import MARKS, SimilarityPair
from webapp.task_modules.similarity.review import clusters, marks_on, my_mark_filter, proposals
from webapp.treatments.models import Treatment

PAIRS_PER_VIEW = 20
SORTS = {"score_desc": N_("Most similar first"), "score_asc": N_("Least similar first")}
VIEWS = {"pairs": N_("Pairs"), "proposals": N_("Proposed matches"), "clusters": N_("Clusters")}


def _documents(treatment: Treatment) -> dict[str, str]:
    """The digitizations of the treatment's documents (region sets `<ref>_anno<id>`), each
    with its name, by ref."""
    refs = sorted({d["uid"].rsplit("_anno", 1)[0] for d in treatment.documents})
    return {ref: digitization_name(ref) for ref in refs}


def _score(args: MultiDict[str, str], name: str) -> float | None:
    """A score from 0 to 1 in any step (the demo's lie between 0.97 and 0.998); None when
    absent or not a number."""
    asked = args.get(name, type=float)
    return min(max(asked, 0.0), 1.0) if asked is not None and math.isfinite(asked) else None


def viewer_context(treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
    view = args.get("view", "")
    view = view if view in VIEWS else "pairs"
    documents = _documents(treatment)
    context: dict[str, Any] = {
        "view": view,
        "views": VIEWS,
        "marks": MARKS,
        "documents": documents,
    }
    if view == "proposals":
        found = proposals(treatment, current_user)
        shown = [crop for triple in found for crop in triple]
        return context | {"proposals": found, "names": page_names(shown)}
    if view == "clusters":
        link_score = _score(args, "link_score")
        groups = [
            group for group in clusters(treatment, current_user, link_score) if len(group) > 1
        ]
        names = page_names(crop for group in groups for crop in group)
        return context | {
            "clusters": [_by_document(group, names) for group in groups],
            "link_score": link_score,
            "names": names,
        }
    min_score = _score(args, "min_score") or 0.0
    sort = args.get("sort", "score_desc")
    sort = sort if sort in SORTS else "score_desc"
    mark = args.get("mark", "")
    document = args.get("document", "")
    stmt = _pairs(treatment, min_score, document if document in documents else "", mark)
    order = SimilarityPair.score.desc() if sort == "score_desc" else SimilarityPair.score.asc()
    pairs = paginate(stmt.order_by(order, SimilarityPair.id), PAIRS_PER_VIEW)
    return context | {
        "pairs": pairs,
        "pair_marks": marks_on(treatment, ((p.a, p.b) for p in pairs.items)),
        "names": page_names(crop for pair in pairs.items for crop in (pair.a, pair.b)),
        "min_score": min_score,
        "sort": sort,
        "sorts": SORTS,
        "mark": mark if my_mark_filter(treatment, current_user, mark) is not None else "",
        "document": document if document in documents else "",
    }


def _pairs(treatment: Treatment, min_score: float, document: str, mark: str) -> Select[Any]:
    """The treatment's pairs scoring at least `min_score`, of one document and with one mark
    of the user's if asked."""
    stmt = select(SimilarityPair).where(
        SimilarityPair.treatment_id.in_(treatment.result_ids), SimilarityPair.score >= min_score
    )
    if document:
        prefix = f"{document}\\_%"
        stmt = stmt.where(
            or_(
                SimilarityPair.a.like(prefix, escape="\\"),
                SimilarityPair.b.like(prefix, escape="\\"),
            )
        )
    marked = my_mark_filter(treatment, current_user, mark)
    return stmt if marked is None else stmt.where(marked)


def _by_document(group: list[str], names: dict[str, PageName]) -> list[tuple[str, list[str]]]:
    """A cluster's crops side by side, grouped by the document they come from."""
    grouped: dict[str, list[str]] = {}
    for crop in group:
        name = names.get(crop)
        # A crop of no page of ours is grouped by the document its id names.
        page_ref = (parse_crop_id(crop) or (crop, ""))[0]
        grouped.setdefault(name.document if name else page_ref.rsplit("_", 1)[0], []).append(crop)
    return sorted(grouped.items())


def pairs_csv(treatment: Treatment) -> Response:
    """One row per pair (those with the user's mark `?mark=` if asked); each side's witness,
    title, page label and IIIF image, the user's mark and everyone's come after the columns
    scripts already read by position."""
    stmt = _pairs(treatment, 0.0, "", request.args.get("mark", ""))
    pairs = list(db.session.scalars(stmt.order_by(SimilarityPair.score.desc(), SimilarityPair.id)))
    names = page_names(crop for pair in pairs for crop in (pair.a, pair.b))
    marks = marks_on(treatment, ((p.a, p.b) for p in pairs))

    def side(crop: str) -> list[str]:
        name = names.get(crop)
        named = [name.shelfmark, name.title, name.page] if name else ["", "", ""]
        return [*named, crop_url(crop, external=True) or ""]

    def marked(pair: SimilarityPair) -> list[str]:
        on = marks.get((pair.a, pair.b), [])
        mine = next((m.mark for m in on if m.user_id == current_user.id), "")
        return [mine, "; ".join(f"{m.user.display_name}: {m.mark}" for m in on)]

    sides = ("witness", "title", "page_label", "image_url")
    return csv_download(
        f"similarity-{treatment.id}.csv",
        [
            *("a", "b", "score", "algorithm"),
            *(f"a_{c}" for c in sides),
            *(f"b_{c}" for c in sides),
            *("my_mark", "marks"),
        ],
        ([p.a, p.b, p.score, p.algorithm, *side(p.a), *side(p.b), *marked(p)] for p in pairs),
    )
