"""The shared catalogue: anyone lists, searches and adds; creators and admins edit and delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.catalog import bp, iiif_import
from webapp.catalog.forms import (
    ImportForm,
    MergeForm,
    MoveForm,
    NewWitnessImportForm,
    SeriesForm,
    UploadForm,
    WitnessForm,
    WorkForm,
)
from webapp.catalog.iiif_import import start_import
from webapp.catalog.lookup import matching
from webapp.catalog.models import Digitization, Series, Witness, Work
from webapp.catalog.uploads import create_from_uploads
from webapp.errors import UserError
from webapp.extensions import db
from webapp.flows.engine import FlowError, submit
from webapp.forms import Form
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.pagination import paginate
from webapp.timeline.record import record

KIND_PATTERN = "<any(works, series, witnesses):kind>"
# A select lists at most this many witnesses to merge or move to.
MAX_CHOICES = 500


@dataclass(frozen=True)
class Kind:
    model: Any
    form: type[Form]
    singular: str
    plural: str
    order: Any
    searched: tuple[Any, ...]
    # Whole phrases, each kind's own: a translation agrees with the kind's gender.
    add: str
    none_yet: str
    none_match: str
    search: str
    saved: str
    added: str
    deleted: str

    def search_filter(self, query: str) -> ColumnElement[bool]:
        return matching(self.model, self.searched, query)


KINDS = {
    "witnesses": Kind(
        Witness,
        WitnessForm,
        N_("witness"),
        N_("Witnesses"),
        Witness.siglum,
        (Witness.siglum, Witness.place, Witness.date),
        add=N_("Add a witness"),
        none_yet=N_("No witnesses yet."),
        none_match=N_("No witnesses match “%(query)s”."),
        search=N_("Search witnesses…"),
        saved=N_("The witness “%(label)s” was saved."),
        added=N_("The witness “%(label)s” was added."),
        deleted=N_("The witness “%(label)s” was deleted, and removed from every set."),
    ),
    "series": Kind(
        Series,
        SeriesForm,
        N_("series"),
        N_("Series"),
        Series.title,
        (Series.title,),
        add=N_("Add a series"),
        none_yet=N_("No series yet."),
        none_match=N_("No series match “%(query)s”."),
        search=N_("Search series…"),
        saved=N_("The series “%(label)s” was saved."),
        added=N_("The series “%(label)s” was added."),
        deleted=N_("The series “%(label)s” was deleted, and removed from every set."),
    ),
    "works": Kind(
        Work,
        WorkForm,
        N_("work"),
        N_("Works"),
        Work.title,
        (Work.title, Work.author),
        add=N_("Add a work"),
        none_yet=N_("No works yet."),
        none_match=N_("No works match “%(query)s”."),
        search=N_("Search works…"),
        saved=N_("The work “%(label)s” was saved."),
        added=N_("The work “%(label)s” was added."),
        deleted=N_("The work “%(label)s” was deleted, and removed from every set."),
    ),
}


def _get_or_404(kind: str, entry_id: int) -> Any:
    return db.get_or_404(KINDS[kind].model, entry_id)


def _editable_or_403(entry: Any) -> Any:
    if not entry.editable_by(current_user):
        abort(403, "Only its creator or an administrator may change this entry.")
    return entry


def _prepare_witness_form(form: WitnessForm) -> None:
    series = db.session.scalars(select(Series).order_by(Series.title))
    # WTForms' shorthand choices are str -> str; the fields coerce the submitted ids to int.
    form.series_id.choices = {"0": "— none —"} | {str(s.id): s.title for s in series}
    works = db.session.scalars(select(Work).order_by(Work.title))
    form.work_ids.choices = {str(w.id): w.label for w in works}


def _fill(kind: str, entry: Any, form: Form) -> None:
    if isinstance(form, WitnessForm):
        entry.siglum = form.siglum.data
        entry.kind = form.kind.data
        entry.place = form.place.data or ""
        entry.date = form.date.data or ""
        entry.description = form.description.data or ""
        entry.series_id = form.series_id.data or None
        chosen = form.work_ids.data or []
        entry.works = list(db.session.scalars(select(Work).where(Work.id.in_(chosen))))
    else:
        form.populate_obj(entry)


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("catalog.listing", kind="witnesses"))


@bp.get(f"/{KIND_PATTERN}/")
def listing(kind: str) -> ResponseReturnValue:
    return _listing(kind)


def _listing(
    kind: str, import_form: NewWitnessImportForm | None = None, status: int = 200
) -> ResponseReturnValue:
    spec = KINDS[kind]
    query = request.args.get("q", "").strip()[:200]
    stmt = select(spec.model).order_by(spec.order)
    if query:
        stmt = stmt.where(spec.search_filter(query))
    if kind == "witnesses":
        stmt = stmt.options(
            selectinload(Witness.series),
            selectinload(Witness.works),
            selectinload(Witness.digitizations),
        )
    pagination = paginate(stmt, current_app.config["PAGE_SIZE"])
    template = "catalog/_results.html" if request.headers.get("HX-Request") else "catalog/list.html"
    return render_template(
        template,
        kind=kind,
        spec=spec,
        kinds=KINDS,
        query=query,
        pagination=pagination,
        import_form=import_form or NewWitnessImportForm(),
    ), status


def _entry_form(kind: str, entry: Any | None) -> ResponseReturnValue:
    """Create (entry None) or edit an entry with its kind's form."""
    spec = KINDS[kind]
    form = spec.form(obj=entry)
    if isinstance(form, WitnessForm):
        _prepare_witness_form(form)
        if entry is not None and request.method == "GET":
            form.series_id.data = entry.series_id or 0
            form.work_ids.data = [work.id for work in entry.works]
    if form.validate_on_submit():
        said = spec.saved if entry else spec.added
        action = "catalog.edit" if entry else "catalog.create"
        if entry is None:
            entry = spec.model(created_by_id=current_user.id)
            db.session.add(entry)
        _fill(kind, entry, form)
        record(action, entry)
        db.session.commit()
        flash(_(said, label=entry.label), "success")
        return redirect(url_for("catalog.detail", kind=kind, entry_id=entry.id))
    return render_template("catalog/form.html", form=form, spec=spec, kind=kind, entry=entry)


def _witness_page(
    witness: Witness,
    import_form: ImportForm | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    merge_form = MergeForm()
    if witness.editable_by(current_user):
        merge_form.merged_id.choices = _other_witnesses(witness.id)
    return render_template(
        "catalog/witness.html",
        entry=witness,
        kind="witnesses",
        spec=KINDS["witnesses"],
        import_form=import_form or ImportForm(),
        upload_form=upload_form or UploadForm(),
        merge_form=merge_form,
    ), status


@bp.route(f"/{KIND_PATTERN}/new", methods=["GET", "POST"])
def create(kind: str) -> ResponseReturnValue:
    return _entry_form(kind, None)


@bp.get(f"/{KIND_PATTERN}/<int:entry_id>")
def detail(kind: str, entry_id: int) -> ResponseReturnValue:
    entry = _get_or_404(kind, entry_id)
    if kind == "witnesses":
        return _witness_page(entry)
    return render_template("catalog/entry.html", entry=entry, kind=kind, spec=KINDS[kind])


@bp.route(f"/{KIND_PATTERN}/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(kind: str, entry_id: int) -> ResponseReturnValue:
    return _entry_form(kind, _editable_or_403(_get_or_404(kind, entry_id)))


# Each kind's deletion flow, and the key its data names the entry by.
DELETIONS = {
    "witnesses": ("delete_witness", "witness"),
    "works": ("delete_work", "work"),
    "series": ("delete_series", "series"),
}


def _changed(flow: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Run a catalogue flow for the user; its result, or None once its error is flashed."""
    try:
        return submit(flow, data, user=current_user).result
    except FlowError as exc:
        flash(str(exc), "error")
        return None


@bp.post(f"/{KIND_PATTERN}/<int:entry_id>/delete")
def delete(kind: str, entry_id: int) -> ResponseReturnValue:
    entry = _editable_or_403(_get_or_404(kind, entry_id))
    label = entry.label
    flow, key = DELETIONS[kind]
    if _changed(flow, {key: entry.id}) is None:
        return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))
    flash(_(KINDS[kind].deleted, label=label), "success")
    return redirect(url_for("catalog.listing", kind=kind))


def _other_witnesses(witness_id: int | None) -> dict[str, str]:
    """The witnesses the user may change, but this one, as a select's choices."""
    stmt = select(Witness).order_by(Witness.siglum).limit(MAX_CHOICES)
    if not current_user.is_admin:
        stmt = stmt.where(Witness.created_by_id == current_user.id)
    return {
        str(w.id): f"{w.siglum} ({w.ref})" for w in db.session.scalars(stmt) if w.id != witness_id
    }


@bp.post("/witnesses/<int:entry_id>/merge")
def merge(entry_id: int) -> ResponseReturnValue:
    witness = _editable_or_403(db.get_or_404(Witness, entry_id))
    form = MergeForm()
    form.merged_id.choices = _other_witnesses(witness.id)
    if not form.validate_on_submit():
        flash(_("Choose the witness to merge into this one."), "error")
    elif _changed("merge_witnesses", {"into": witness.id, "merged": form.merged_id.data}):
        flash(_("The witnesses were merged into “%(label)s”.", label=witness.siglum), "success")
    return redirect(url_for("catalog.detail", kind="witnesses", entry_id=entry_id))


@bp.post("/witnesses/import")
def import_new_witness() -> ResponseReturnValue:
    form = NewWitnessImportForm()
    if form.validate_on_submit():
        data = {
            "manifest_url": form.manifest_url.data,
            "siglum": form.siglum.data or "",
            "kind": form.kind.data,
        }
        try:
            submitted = submit("import_witness", data, user=current_user, mode="async")
        except FlowError as exc:
            form.manifest_url.errors = [str(exc)]
        else:
            flash(_("The manifest is being imported as a new witness."), "success")
            return redirect(url_for("tasks.detail", task_id=submitted.task_id))
    return _listing("witnesses", import_form=form, status=400)


@bp.post("/witnesses/<int:entry_id>/import")
def import_manifest(entry_id: int) -> ResponseReturnValue:
    witness = db.get_or_404(Witness, entry_id)
    form = ImportForm()
    if form.validate_on_submit():
        try:
            digitization = start_import(
                witness, form.manifest_url.data or "", current_user, form.label.data or ""
            )
        except UserError as exc:
            form.manifest_url.errors = [str(exc)]
        else:
            flash(_("The manifest was read; its images are being copied."), "success")
            return redirect(url_for("catalog.digitization", digitization_id=digitization.id))
    return _witness_page(witness, import_form=form, status=400)


@bp.post("/witnesses/<int:entry_id>/upload")
def upload_images(entry_id: int) -> ResponseReturnValue:
    witness = db.get_or_404(Witness, entry_id)
    form = UploadForm()
    if form.validate_on_submit():
        try:
            digitization = create_from_uploads(
                witness,
                form.images.data,
                current_user,
                form.label.data or "",
                current_app.config["MAX_IMAGE_MB"] * 1_000_000,
            )
        except UserError as exc:
            form.images.errors = [str(exc)]
        else:
            flash(
                _(
                    "%(count)s images were received; they are being stored.",
                    count=digitization.pages_total,
                ),
                "success",
            )
            return redirect(url_for("catalog.digitization", digitization_id=digitization.id))
    return _witness_page(witness, upload_form=form, status=400)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload past the limit is refused before any of it is read: the witness's page says
    the limit, its form ready for a smaller batch."""
    entry_id = (request.view_args or {}).get("entry_id")
    witness = (
        db.session.get(Witness, entry_id) if request.endpoint == "catalog.upload_images" else None
    )
    if witness is None:
        return error
    # The body is refused unread: the page's forms read none of it (reading would refuse again).
    request.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())
    form = UploadForm(formdata=None)
    form.images.errors = [
        _(
            "These files are larger than %(mb)s MB in all: send them in smaller batches.",
            mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        )
    ]
    return _witness_page(witness, upload_form=form, status=413)


@bp.get("/digitizations/<int:digitization_id>")
def digitization(digitization_id: int) -> ResponseReturnValue:
    entry = db.get_or_404(Digitization, digitization_id)
    move_form = MoveForm()
    if entry.editable_by(current_user):
        move_form.witness_id.choices = _other_witnesses(entry.witness_id)
    return render_template("catalog/digitization.html", digitization=entry, move_form=move_form)


@bp.post("/digitizations/<int:digitization_id>/move")
def move_digitization(digitization_id: int) -> ResponseReturnValue:
    entry = _editable_or_403(db.get_or_404(Digitization, digitization_id))
    form = MoveForm()
    form.witness_id.choices = _other_witnesses(entry.witness_id)
    if not form.validate_on_submit():
        flash(_("Choose the witness to move it to."), "error")
    elif _changed("move_digitization", {"digitization": entry.id, "witness": form.witness_id.data}):
        flash(_("The digitization was moved."), "success")
    return redirect(url_for("catalog.digitization", digitization_id=digitization_id))


@bp.get("/digitizations/<int:digitization_id>/status")
def digitization_status(digitization_id: int) -> ResponseReturnValue:
    entry = db.get_or_404(Digitization, digitization_id)
    html = render_template("catalog/_import_status.html", digitization=entry)
    if not Status(entry.status).is_terminal:
        return html
    # The import has just ended: 286 stops htmx's polling, and a refresh shows the new pages.
    return html, 286, {"HX-Refresh": "true"}


@bp.post("/digitizations/<int:digitization_id>/cancel")
def cancel_import(digitization_id: int) -> ResponseReturnValue:
    entry = _editable_or_403(db.get_or_404(Digitization, digitization_id))
    try:
        iiif_import.cancel_import(entry, current_user)
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The import was cancelled; the images copied so far are kept."), "success")
    return redirect(url_for("catalog.digitization", digitization_id=entry.id))


@bp.post("/digitizations/<int:digitization_id>/delete")
def delete_digitization(digitization_id: int) -> ResponseReturnValue:
    entry = _editable_or_403(db.get_or_404(Digitization, digitization_id))
    witness_id = entry.witness_id
    if _changed("delete_digitization", {"digitization": entry.id}) is None:
        return redirect(url_for("catalog.digitization", digitization_id=digitization_id))
    flash(_("The digitization was deleted, and removed from every set."), "success")
    return redirect(url_for("catalog.detail", kind="witnesses", entry_id=witness_id))
