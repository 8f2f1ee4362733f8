"""Similarity: which regions look alike, across and within documents."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, ClassVar

from flask import Blueprint, Response
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FloatField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from webapp.bulk import higher, put_rows
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_, _l
from webapp.processing_api import model_choices
from webapp.task_modules.base import Stored, TaskModule
from webapp.task_modules.regions_source import RegionsSourceForm, RegionsSourceModule
from webapp.task_modules.similarity.models import SimilarityPair
from webapp.task_modules.similarity.results import pairs_csv, viewer_context
from webapp.task_modules.similarity.review import marks_on
from webapp.treatments.models import Treatment

bp = Blueprint("similarity", __name__, url_prefix="/similarity")

FALLBACK_ALGORITHMS = {"cosine": "Cosine similarity of region descriptors"}
FALLBACK_FEATURES = {"default": "Default descriptor"}


class SimilarityForm(RegionsSourceForm):
    algorithm = SelectField(_l("Algorithm"), choices=FALLBACK_ALGORITHMS)
    feat_net = SelectField(_l("Features"), choices=FALLBACK_FEATURES)
    topk = IntegerField(
        _l("Most similar regions kept per region"),
        default=10,
        validators=[InputRequired(), NumberRange(1, 100)],
    )
    threshold = FloatField(
        _l("Lowest score kept"), default=0.5, validators=[InputRequired(), NumberRange(0.0, 1.0)]
    )
    prefilter = BooleanField(_l("Prefilter candidates with a fast descriptor first"))
    prefilter_n = IntegerField(
        _l("Candidates kept by the prefilter"),
        default=50,
        validators=[InputRequired(), NumberRange(1, 1000)],
    )

    def set_choices(self, module: TaskModule, user: Any, document_set: DocumentSet | None) -> None:
        super().set_choices(module, user, document_set)
        self.algorithm.choices = model_choices(module, FALLBACK_ALGORITHMS, ("algorithm",))
        self.feat_net.choices = model_choices(module, FALLBACK_FEATURES, (None, "feat_net"))


def _pairs(data: Any, doc_uid: str) -> tuple[list[str], list[Any]]:
    if not isinstance(data, dict):
        raise UserError(
            _("The similarity result for %(doc_uid)s is not a JSON object.", doc_uid=doc_uid)
        )
    index, pairs = data.get("index"), data.get("pairs")
    images = index.get("images") if isinstance(index, dict) else None
    if not isinstance(images, list) or not isinstance(pairs, list):
        raise UserError(
            _(
                "The similarity result for %(doc_uid)s has no index of images or pairs.",
                doc_uid=doc_uid,
            )
        )
    ids = [str(image.get("id")) if isinstance(image, dict) else "" for image in images]
    return ids, pairs


class SimilarityModule(RegionsSourceModule):
    name = "similarity"
    label = N_("Similarity")
    description = N_("Find regions that look alike, within and across documents.")
    default_route = "similarity"
    defaults: ClassVar[dict[str, Any]] = {
        "algorithm": "cosine",
        "topk": 10,
        "threshold": 0.5,
        "prefilter": False,
    }
    result_model = SimilarityPair
    result_name = "pairs"
    blueprint = bp
    form_class = SimilarityForm
    results_template = "task_modules/similarity_summary.html"
    viewer_template = "task_modules/similarity_viewer.html"
    exports: ClassVar[dict[str, str]] = {"csv": N_("Pairs as CSV")}
    unit = (N_("pair"), N_("pairs"))

    @classmethod
    def units_total(cls, documents: int) -> int:
        """One result per pair of documents, a document paired with itself included."""
        return documents * (documents + 1) // 2

    one_part_at_a_time = True

    @classmethod
    def parts(
        cls, previous: list[dict[str, str]], new: list[dict[str, str]]
    ) -> list[list[dict[str, str]]]:
        """The new documents with every one before them, in one launch: each pair is compared
        as soon as both its documents are ready. One launch for all, rather than one a pair,
        since each launch costs the processing API a start and the documents' descriptors;
        the pairs of earlier documents it compares again are stored once."""
        return [[*new, *previous]]

    @classmethod
    def failed_documents(
        cls, documents: list[dict[str, str]], done: list[str]
    ) -> list[dict[str, str]]:
        """The documents of every pair without a result (a pair is `a-b`, in either order)."""
        have = {tuple(sorted(key.split("-"))) for key in done}
        uids = [d["uid"] for d in documents]
        missing = {
            uid
            for i, a in enumerate(uids)
            for b in uids[i:]
            if tuple(sorted((a, b))) not in have
            for uid in (a, b)
        }
        return [d for d in documents if d["uid"] in missing]

    def api_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Ours and, for AIKON's API, the same values under the names it reads."""
        aikon = {
            "cosine_n_filter": "topk",
            "segswap_prefilter": "prefilter",
            "segswap_n": "prefilter_n",
        }
        return parameters | {
            theirs: parameters[ours] for theirs, ours in aikon.items() if ours in parameters
        }

    def viewer(self, treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
        return viewer_context(treatment, args)

    def export(self, treatment: Treatment, kind: str) -> Response:
        return pairs_csv(treatment)

    def result_rows(
        self, treatment: Treatment, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The pairs, most similar first, with every researcher's marks."""
        where = SimilarityPair.treatment_id.in_(treatment.result_ids)
        pairs = list(
            db.session.scalars(
                select(SimilarityPair)
                .where(where)
                .order_by(SimilarityPair.score.desc(), SimilarityPair.id)
                .offset(offset)
                .limit(limit)
            )
        )
        marks = marks_on(treatment, ((p.a, p.b) for p in pairs))
        total = db.session.scalar(select(func.count()).select_from(SimilarityPair).where(where))
        return [
            {
                "a": pair.a,
                "b": pair.b,
                "score": pair.score,
                "algorithm": pair.algorithm,
                "marks": {m.user.email: m.mark for m in marks.get((pair.a, pair.b), [])},
            }
            for pair in pairs
        ], total or 0

    def process_results(self, treatment: Treatment, doc_uid: str, content: bytes) -> Stored:
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(
                _("The similarity result for %(doc_uid)s is not JSON.", doc_uid=doc_uid)
            ) from exc
        ids, pairs = _pairs(data, doc_uid)
        algorithm = str(treatment.parameters.get("algorithm", ""))[:100]
        threshold = float(treatment.parameters.get("threshold") or 0.0)
        digest = hashlib.sha256(
            json.dumps(treatment.parameters, sort_keys=True).encode()
        ).hexdigest()
        best: dict[tuple[str, str], float] = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) >= 3):
                raise UserError(
                    _(
                        "The similarity result for %(doc_uid)s has a malformed pair.",
                        doc_uid=doc_uid,
                    )
                )
            i, j, score = pair[0], pair[1], pair[2]
            if not (
                isinstance(i, int)
                and isinstance(j, int)
                and 0 <= i < len(ids)
                and 0 <= j < len(ids)
                and isinstance(score, int | float)
            ):
                raise UserError(
                    _(
                        "The similarity result for %(doc_uid)s has a pair out of range.",
                        doc_uid=doc_uid,
                    )
                )
            a, b = sorted((ids[i], ids[j]))
            # The real API pairs images with themselves, keeps scores <= 0 and applies no
            # threshold: the lowest score kept is ours to apply.
            if a == b or not math.isfinite(score) or score <= 0 or score < threshold:
                continue
            best[(a, b)] = max(float(score), best.get((a, b), 0.0))
        put_rows(
            SimilarityPair,
            [
                {
                    "treatment_id": treatment.id,
                    "a": a[:300],
                    "b": b[:300],
                    "score": score,
                    "algorithm": algorithm,
                    "parameter_hash": digest,
                }
                for (a, b), score in best.items()
            ],
            key=("treatment_id", "a", "b"),
            merge={"score": higher},
        )
        return Stored(len(best))


MODULE = SimilarityModule()

from webapp.task_modules.similarity import marking  # noqa: E402, F401
