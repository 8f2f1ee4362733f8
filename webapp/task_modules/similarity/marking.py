"""The route that marks a pair: from the pairs, the proposed matches or a cluster, with htmx
swapping the marks in place, or without JavaScript by going back to the same view."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.errors import UserError
from webapp.task_modules.similarity import bp
from webapp.task_modules.similarity.models import MARKS
from webapp.task_modules.similarity.review import mark_pair, marks_on, ordered
from webapp.treatments.routes import visible_or_404


@bp.post("/<treatment_id>/marks")
def mark(treatment_id: str) -> ResponseReturnValue:
    treatment = visible_or_404(treatment_id)
    a, b = request.form.get("a", ""), request.form.get("b", "")
    try:
        mark_pair(treatment, current_user, a, b, request.form.get("mark", ""))
    except UserError as exc:
        if request.headers.get("HX-Request"):
            return str(exc), 400
        flash(str(exc), "error")
        return redirect(url_for("treatments.results", treatment_id=treatment.id), 303)
    if request.headers.get("HX-Request"):
        pair = ordered(a, b)
        return render_template(
            "task_modules/_pair_marks.html",
            treatment=treatment,
            a=pair[0],
            b=pair[1],
            on=marks_on(treatment, [pair]).get(pair, []),
            marks=MARKS,
        )
    back = request.form.get("back", "")
    # Only a view of this treatment's results: never an address from outside.
    results = url_for("treatments.results", treatment_id=treatment.id)
    return redirect(back if back.startswith(f"{results}?") or back == results else results, 303)
