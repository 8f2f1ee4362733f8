"""The home page (one's work at a glance, a quick launch) and one search over everything a
user may see: the catalogue, document sets and treatments."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from webapp.catalog.routes import KINDS
from webapp.document_sets.access import usable_sets
from webapp.extensions import db
from webapp.i18n import N_
from webapp.task_modules.registry import task_modules
from webapp.treatments.models import Treatment
from webapp.treatments.routes import listing

bp = Blueprint("home", __name__)
# Found things shown of each kind; the kind's own page lists the rest.
SHOWN = 10


@dataclass(frozen=True)
class Found:
    label: str
    url: str
    detail: str = ""


@bp.get("/")
def index() -> ResponseReturnValue:
    pagination, _status, _task = listing(mine=True)
    sets = usable_sets(current_user, members=True)  # their owners shown, loaded with them
    return render_template(
        "home.html",
        pagination=pagination,
        own_sets=[s for s in sets if s.owner_id == current_user.id],
        shared_sets=[s for s in sets if s.owner_id != current_user.id][:SHOWN],
        modules=task_modules(),
    )


@bp.get("/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:200]
    return render_template("search.html", query=query, found=found(query) if query else {})


def found(query: str) -> dict[str, list[Found]]:
    """What the query names, by kind: catalogue entries (by title, shelfmark or ref), sets (by
    title) and treatments (by id, whatever its case, or by their set's title)."""
    results: dict[str, list[Found]] = {}
    for kind, spec in KINDS.items():
        entries = db.session.scalars(
            select(spec.model).where(spec.search_filter(query)).order_by(spec.order).limit(SHOWN)
        )
        results[spec.plural] = [
            Found(e.label, url_for("catalog.detail", kind=kind, entry_id=e.id)) for e in entries
        ]
    lowered = query.lower()
    results[N_("Document sets")] = [
        Found(s.title, url_for("document_sets.detail", set_id=s.id), s.owner.display_name)
        for s in usable_sets(current_user, members=True)
        if lowered in s.title.lower()
    ][:SHOWN]
    stmt = select(Treatment).where(
        Treatment.part_of_id.is_(None),
        or_(
            func.lower(Treatment.id).startswith(lowered, autoescape=True),
            Treatment.document_set_title.icontains(query, autoescape=True),
        ),
    )
    if not current_user.is_admin:
        stmt = stmt.where(Treatment.owner_id == current_user.id)
    modules = task_modules()
    results[N_("Treatments")] = [
        Found(
            f"{_(modules[t.task_type].label) if t.task_type in modules else t.task_type}"
            f" · {t.document_set_title}",
            url_for("treatments.detail", treatment_id=t.id),
            t.id,
        )
        for t in db.session.scalars(stmt.order_by(Treatment.requested_at.desc()).limit(SHOWN))
    ]
    return results
