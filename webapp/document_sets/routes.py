"""Document-set builder. A set its user may not see is a 404, never a 403."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.document_sets import bp
from webapp.document_sets.access import usable_sets
from webapp.document_sets.forms import SharingForm, TitleForm
from webapp.document_sets.members import (
    MEMBER_KINDS,
    add_member,
    remove_member,
    search_documents,
)
from webapp.document_sets.models import DocumentSet
from webapp.document_sets.service import create_set, delete_set, rename_set
from webapp.errors import UserError
from webapp.extensions import db
from webapp.sharing import emails, share


def _visible_or_404(set_id: int) -> DocumentSet:
    document_set = db.session.get(DocumentSet, set_id)
    if document_set is None or not document_set.visible_to(current_user):
        abort(404)
    return document_set


def _editable_or_404(set_id: int) -> DocumentSet:
    document_set = _visible_or_404(set_id)
    if not document_set.editable_by(current_user):
        abort(404)
    return document_set


def _render_builder(
    document_set: DocumentSet,
    title_form: TitleForm | None = None,
    sharing_form: SharingForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    if sharing_form is None:
        sharing_form = SharingForm(visibility=document_set.visibility)
        sharing_form.shared_with.data = "\n".join(u.email for u in document_set.shared_with)
    return render_template(
        "document_sets/detail.html",
        document_set=document_set,
        title_form=title_form or TitleForm(obj=document_set),
        sharing_form=sharing_form,
        editable=document_set.editable_by(current_user),
        member_kinds=MEMBER_KINDS,
    ), status


def _render_members(document_set: DocumentSet) -> ResponseReturnValue:
    return render_template(
        "document_sets/_members.html",
        document_set=document_set,
        editable=True,
        member_kinds=MEMBER_KINDS,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template(
        "document_sets/list.html", sets=usable_sets(current_user, members=True), form=TitleForm()
    )


@bp.post("/")
def create() -> ResponseReturnValue:
    form = TitleForm()
    if not form.validate_on_submit():
        sets = list(
            db.session.scalars(
                select(DocumentSet)
                .where(DocumentSet.owner_id == current_user.id)
                .order_by(DocumentSet.title)
            )
        )
        return render_template("document_sets/list.html", sets=sets, form=form), 400
    document_set = create_set(current_user, form.title.data or "")
    flash(
        _("The set “%(title)s” was created; now add documents to it.", title=document_set.title),
        "success",
    )
    return redirect(url_for("document_sets.detail", set_id=document_set.id))


@bp.get("/<int:set_id>")
def detail(set_id: int) -> ResponseReturnValue:
    return _render_builder(_visible_or_404(set_id))


@bp.post("/<int:set_id>/rename")
def rename(set_id: int) -> ResponseReturnValue:
    document_set = _editable_or_404(set_id)
    form = TitleForm()
    if not form.validate_on_submit():
        return _render_builder(document_set, title_form=form, status=400)
    rename_set(document_set, form.title.data or document_set.title)
    flash(_("The set was renamed."), "success")
    return redirect(url_for("document_sets.detail", set_id=set_id))


@bp.post("/<int:set_id>/sharing")
def sharing(set_id: int) -> ResponseReturnValue:
    document_set = _editable_or_404(set_id)
    form = SharingForm()
    if form.validate_on_submit():
        try:
            share(document_set, form.visibility.data or "private", emails(form.shared_with.data))
        except UserError as exc:
            form.shared_with.errors = [str(exc)]
        else:
            flash(_("Sharing was updated."), "success")
            return redirect(url_for("document_sets.detail", set_id=set_id))
    return _render_builder(document_set, sharing_form=form, status=400)


@bp.post("/<int:set_id>/delete")
def delete(set_id: int) -> ResponseReturnValue:
    document_set = _editable_or_404(set_id)
    title = document_set.title
    delete_set(document_set)
    flash(_("The set “%(title)s” was deleted.", title=title), "success")
    return redirect(url_for("document_sets.index"))


@bp.get("/<int:set_id>/search")
def search(set_id: int) -> ResponseReturnValue:
    document_set = _editable_or_404(set_id)
    query = request.args.get("q", "").strip()[:200]
    results = search_documents(query) if query else []
    return render_template(
        "document_sets/_search_results.html",
        document_set=document_set,
        results=results,
        query=query,
        member_kinds=MEMBER_KINDS,
    )


def _member_id() -> int:
    value = request.form.get("id", "")
    # ASCII digits only ("²" is a digit to str.isdigit), within the database's integers.
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise UserError(_("Say which document to add or remove."))
    return int(value)


def _change_members(
    set_id: int, change: Callable[[DocumentSet, str, int], object]
) -> ResponseReturnValue:
    document_set = _editable_or_404(set_id)
    try:
        change(document_set, request.form.get("kind", ""), _member_id())
    except UserError as exc:
        abort(400, str(exc))
    if request.headers.get("HX-Request"):
        return _render_members(document_set)
    return redirect(url_for("document_sets.detail", set_id=set_id))


@bp.post("/<int:set_id>/members")
def add(set_id: int) -> ResponseReturnValue:
    return _change_members(set_id, add_member)


@bp.post("/<int:set_id>/members/remove")
def remove(set_id: int) -> ResponseReturnValue:
    return _change_members(set_id, remove_member)
