"""Similar pairs as people look at them: side by side, above a score, sorted, per document."""

from __future__ import annotations

import math
from typing import Any

from flask import Response
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from webapp.catalog.names import digitization_name, page_names
from webapp.exports import csv_download
from webapp.extensions import db
from webapp.iiif.links import crop_url
from webapp.pagination import paginate
from webapp.task_modules.similarity.models import SimilarityPair
from webapp.treatments.models import Treatment

PAIRS_PER_VIEW = 20
SORTS = {"score_desc": "Most similar first", "score_asc": "Least similar first"}


def _documents(treatment: Treatment) -> dict[str, str]:
    """The digitizations of the treatment's documents (region sets `<ref>_anno<id>`), each
    with its name, by ref."""
    refs = sorted({d["uid"].rsplit("_anno", 1)[0] for d in treatment.documents})
    return {ref: digitization_name(ref) for ref in refs}


def viewer_context(treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
    asked = args.get("min_score", 0.0, type=float) or 0.0
    # Any value from 0 to 1 (the demo's scores lie between 0.97 and 0.998); NaN is none.
    min_score = min(max(asked, 0.0), 1.0) if math.isfinite(asked) else 0.0
    sort = args.get("sort", "score_desc")
    sort = sort if sort in SORTS else "score_desc"
    documents = _documents(treatment)
    document = args.get("document", "")
    stmt = select(SimilarityPair).where(
        SimilarityPair.treatment_id == treatment.id, SimilarityPair.score >= min_score
    )
    if document in documents:
        prefix = f"{document}\\_%"
        stmt = stmt.where(
            or_(
                SimilarityPair.a.like(prefix, escape="\\"),
                SimilarityPair.b.like(prefix, escape="\\"),
            )
        )
    order = SimilarityPair.score.desc() if sort == "score_desc" else SimilarityPair.score.asc()
    pairs = paginate(
        stmt.order_by(order, SimilarityPair.id),
        PAIRS_PER_VIEW,
    )
    return {
        "pairs": pairs,
        "names": page_names(crop for pair in pairs.items for crop in (pair.a, pair.b)),
        "min_score": min_score,
        "sort": sort,
        "sorts": SORTS,
        "documents": documents,
        "document": document if document in documents else "",
    }


def pairs_csv(treatment: Treatment) -> Response:
    """One row per pair; each side's witness, title, page label and IIIF image come after the
    columns scripts already read by position."""
    pairs = list(
        db.session.scalars(
            select(SimilarityPair)
            .where(SimilarityPair.treatment_id == treatment.id)
            .order_by(SimilarityPair.score.desc(), SimilarityPair.id)
        )
    )
    names = page_names(crop for pair in pairs for crop in (pair.a, pair.b))

    def side(crop: str) -> list[str]:
        name = names.get(crop)
        named = [name.shelfmark, name.title, name.page] if name else ["", "", ""]
        return [*named, crop_url(crop, external=True) or ""]

    sides = ("witness", "title", "page_label", "image_url")
    return csv_download(
        f"similarity-{treatment.id}.csv",
        ["a", "b", "score", "algorithm", *(f"a_{c}" for c in sides), *(f"b_{c}" for c in sides)],
        ([p.a, p.b, p.score, p.algorithm, *side(p.a), *side(p.b)] for p in pairs),
    )
