"""Administrators' pages: treatments, users, document sets, the timeline of changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp.admin import bp, users
from webapp.admin.forms import NewUserForm, QuotaForm
from webapp.admin.treatments import SORT_LABELS, Filters, bulk, parse_day
from webapp.auth.accounts import create_user
from webapp.auth.models import User
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.pagination import paginate
from webapp.quotas.pages import pages_used_by_all
from webapp.quotas.usage import usage_page
from webapp.task_modules.registry import task_modules
from webapp.timeline.models import OUTCOMES
from webapp.timeline.record import Filters as TimelineFilters
from webapp.timeline.record import known_actions, newest_first
from webapp.treatments.models import Treatment

BULK_ACTIONS = {"relaunch": N_("Relaunch"), "cancel": N_("Cancel"), "delete": N_("Delete")}
# Treatments one bulk action goes through in one request (each may call the processing API).
BULK_LIMIT = 500


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.treatments"))


@bp.get("/treatments")
def treatments() -> ResponseReturnValue:
    filters = Filters.from_args(request.args)
    pagination = paginate(filters.query(), current_app.config["PAGE_SIZE"])
    return render_template(
        "admin/treatments.html",
        pagination=pagination,
        filters=filters,
        statuses=list(Status),
        modules=task_modules(),
        sorts=SORT_LABELS,
        actions=BULK_ACTIONS,
        bulk_limit=BULK_LIMIT,
    )


@bp.post("/treatments/bulk")
def treatments_bulk() -> ResponseReturnValue:
    action = request.form.get("action", "")
    filters = Filters.from_args(request.args)
    if request.form.get("scope") == "matching":
        matching = filters.query().with_only_columns(Treatment.id)
        ids = list(db.session.scalars(matching.limit(BULK_LIMIT + 1)))
    else:
        ids = list(dict.fromkeys(request.form.getlist("ids")))
    if action not in BULK_ACTIONS or not ids:
        flash(_("Choose treatments and an action."), "error")
    else:
        outcome = bulk(action, ids[:BULK_LIMIT], current_user)
        flash(
            _("%(action)s: %(done)s done.", action=_(BULK_ACTIONS[action]), done=outcome.done),
            "success",
        )
        if len(ids) > BULK_LIMIT:
            flash(
                _(
                    "Only the first %(n)s were acted on: apply it again for the others.",
                    n=BULK_LIMIT,
                ),
                "info",
            )
        for refusal in outcome.refused or []:
            flash(refusal, "error")
    query = urlencode(filters.args(), doseq=True)
    return redirect(url_for("admin.treatments") + (f"?{query}" if query else ""))


@bp.route("/users", methods=["GET", "POST"])
def users_page() -> ResponseReturnValue:
    form = NewUserForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = create_user(
                    form.email.data or "",
                    form.password.data or "",
                    name=form.name.data or "",
                    is_admin=bool(form.is_admin.data),
                )
            except UserError as exc:
                form.email.errors = [str(exc)]
                status = 400
            else:
                flash(_("Created %(email)s.", email=user.email), "success")
                return redirect(url_for("admin.users_page"))
        else:
            status = 400
    rows = db.session.execute(
        select(Treatment.owner_id, func.count()).group_by(Treatment.owner_id)
    ).all()
    counts = {row[0]: row[1] for row in rows}
    accounts = db.session.scalars(select(User).order_by(User.email)).all()
    pages = pages_used_by_all()
    return render_template(
        "admin/users.html", form=form, accounts=accounts, counts=counts, pages=pages
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_page(user_id: int) -> ResponseReturnValue:
    """One account: its rights, its quotas (set here), its usage and task report."""
    user = db.get_or_404(User, user_id)
    form = QuotaForm(obj=user)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            users.set_quotas(user, form.page_quota.data, form.storage_quota_mb.data, current_user)
            flash(_("%(email)s: quotas saved.", email=user.email), "success")
            return redirect(url_for("admin.user_page", user_id=user.id))
        status = 400
    return render_template("admin/user.html", account=user, form=form, **usage_page(user)), status


@bp.post("/users/<int:user_id>/<action>")
def user_action(user_id: int, action: str) -> ResponseReturnValue:
    user = db.get_or_404(User, user_id)
    try:
        if action == "activate":
            users.set_active(user, True, current_user)
        elif action == "deactivate":
            users.set_active(user, False, current_user)
        elif action == "grant-admin":
            users.set_admin(user, True, current_user)
        elif action == "revoke-admin":
            users.set_admin(user, False, current_user)
        elif action == "reset-password":
            password = users.reset_password(user)
            flash(
                _(
                    "New password for %(email)s: %(password)s (shown once).",
                    email=user.email,
                    password=password,
                ),
                "success",
            )
        else:
            flash(_("Unknown action %(action)s.", action=repr(action)), "error")
            return redirect(url_for("admin.users_page"))
    except UserError as exc:
        flash(str(exc), "error")
    else:
        if action != "reset-password":
            flash(_("%(email)s: done.", email=user.email), "success")
    return redirect(url_for("admin.user_page", user_id=user.id))


@bp.get("/timeline")
def timeline() -> ResponseReturnValue:
    """Every change made, with filters: who, what, to which kind of object, how it ended,
    between two days."""
    args = request.args
    since, until = parse_day(args.get("since")), parse_day(args.get("until"))
    actions = known_actions()
    chosen = TimelineFilters(
        action=args.get("action", "") if args.get("action") in actions else "",
        object_kind=args.get("kind", "").strip()[:30],
        outcome=args.get("outcome", "") if args.get("outcome") in OUTCOMES else "",
        actor=args.get("actor", "").strip()[:254],
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
    )
    given = {
        key: args.get(key, "") for key in ("action", "kind", "outcome", "actor", "since", "until")
    }
    return render_template(
        "admin/timeline.html",
        pagination=paginate(chosen.applied(newest_first()), 50),
        actions=actions,
        outcomes=OUTCOMES,
        chosen=chosen,
        args={key: value for key, value in given.items() if value},
    )


@bp.get("/sets")
def sets() -> ResponseReturnValue:
    pagination = paginate(
        select(DocumentSet).order_by(DocumentSet.title), current_app.config["PAGE_SIZE"]
    )
    return render_template("admin/sets.html", pagination=pagination)
