"""The catalogue's flows: importing a manifest as a new witness, deleting a witness, a work, a
series or a digitization, merging two witnesses, moving a digitization to another witness."""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, literal, select, update

from webapp import storage
from webapp.auth.models import User
from webapp.catalog.iiif_import import enqueue_import, fetch_image, fetch_manifest
from webapp.catalog.models import WITNESS_KINDS, Digitization, Page, Series, Witness, Work
from webapp.document_sets.models import set_witnesses
from webapp.errors import UserError
from webapp.extensions import db
from webapp.flows.engine import Flow, FlowContext, FlowError, Lock, Step
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.quotas.storage import check_storage
from webapp.readable import shortened
from webapp.security import DatabaseInteger
from webapp.timeline.record import described, kind_of
from webapp.tracked_jobs import withdraw_tracked

MAX_URL = 2000
UNFINISHED = {Status.PENDING.value, Status.RETRYING.value, Status.IN_PROGRESS.value}


def _id(data: Any, key: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FlowError(_("Give “%(key)s” as the id of a record (a whole number).", key=key))
    if not 1 <= value <= DatabaseInteger.LARGEST:
        raise FlowError(_("No record has the id %(value)s.", value=value))
    return value


def _editable(model: type[Any], ident: int, user: User, missing: str) -> Any:
    entry = db.session.get(model, ident)
    if entry is None:
        raise FlowError(missing)
    if not entry.editable_by(user):
        raise FlowError(_("Only its creator or an administrator may change this entry."))
    return entry


def _present(model: type[Any], ident: int) -> Any:
    """A record checked a moment ago, unless it was deleted meanwhile."""
    entry = db.session.get(model, ident)
    if entry is None:
        raise FlowError(_("A record this change needs was deleted meanwhile."))
    return entry


def _subject(model: type[Any], ident: int) -> tuple[str, str, str]:
    """The timeline's name of a record that outlives the flow (or of one gone meanwhile)."""
    entry = db.session.get(model, ident)
    if entry is None:
        return kind_of(model), str(ident), ""
    return described(entry)


def _witness(ident: int, user: User) -> Witness:
    witness: Witness = _editable(Witness, ident, user, _("No such witness."))
    return witness


def _witness_lock(witness: Witness) -> Lock:
    return Lock(f"witness:{witness.id}", _("The witness “%(label)s”", label=witness.siglum))


def _digitization_locks(ids: list[int]) -> list[Lock]:
    return [Lock(f"digitization:{i}", _("The digitization #%(id)s", id=i)) for i in ids]


def _folder(context: FlowContext, part: str) -> str:
    """Where the flow keeps files it moves aside or prepares, until it has ended."""
    return f"flows/{context.flow_id}/{part}"


# Steps shared by the deletions, over the digitizations listed in state["digitizations"].


def _withdraw_imports(context: FlowContext) -> None:
    """Redis: take the deleted digitizations' waiting import jobs out of the queue."""
    unfinished = db.session.scalars(
        select(Digitization.id).where(
            Digitization.id.in_(context.state["digitizations"]), Digitization.status.in_(UNFINISHED)
        )
    ).all()
    context.state["withdrawn"] = [i for i in unfinished if withdraw_tracked(f"import:{i}")]
    context.save()


def _requeue_imports(context: FlowContext) -> None:
    for digitization_id in context.state.get("withdrawn", []):
        enqueue_import(digitization_id)


def _set_files_aside(context: FlowContext) -> None:
    """Storage: move the digitizations' folders aside, to be removed once all else is done."""
    moves = [
        [folder, f"{_folder(context, 'aside')}/{folder}"]
        for digitization_id in context.state["digitizations"]
        for folder in storage.digitization_folders(digitization_id)
        if storage.absolute(folder).exists()
    ]
    context.state["aside"] = moves
    context.save()  # before moving: an undo after a crash knows what may have moved
    for source, target in moves:
        storage.move(source, target)


def _put_files_back(context: FlowContext) -> None:
    for source, target in reversed(context.state.get("aside", [])):
        storage.move(target, source)


def _remove_flow_files(context: FlowContext) -> None:
    shutil.rmtree(storage.absolute(f"flows/{context.flow_id}"), ignore_errors=True)


WITHDRAW = Step("withdraw waiting imports", _withdraw_imports, _requeue_imports)
SET_ASIDE = Step("set the files aside", _set_files_aside, _put_files_back)
REMOVE_FILES = Step("remove the files set aside", _remove_flow_files, where="finish")


class _Deletion(Flow):
    """Delete a record with what belongs to it (rows cascade: digitizations, pages, results,
    set memberships); its files are moved aside first and removed once the rest is done."""

    model: type[Any]
    key: str
    missing: str
    what: str

    def check(self, user: User, data: Any) -> dict[str, Any]:
        ident = _id(data, self.key)
        _editable(self.model, ident, user, _(self.missing))
        return {self.key: ident}

    def _entry(self, data: dict[str, Any]) -> Any:
        entry = db.session.get(self.model, data[self.key])
        if entry is None:
            raise FlowError(_(self.missing))
        return entry

    def digitization_ids(self, entry: Any) -> list[int]:
        return []

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        entry = self._entry(data)
        own = Lock(f"{self.key}:{entry.id}", _(self.what, label=entry.label))
        return [own, *_digitization_locks(self.digitization_ids(entry))]

    def _list(self, context: FlowContext) -> None:
        entry = self._entry(context.data)
        context.state["label"] = entry.label
        context.state["digitizations"] = self.digitization_ids(entry)
        context.save()

    def _delete_rows(self, context: FlowContext) -> None:
        db.session.delete(self._entry(context.data))
        db.session.flush()

    def steps(self) -> list[Step]:
        return [
            Step("list what goes", self._list),
            WITHDRAW,
            SET_ASIDE,
            Step("delete the rows", self._delete_rows, where="database"),
            REMOVE_FILES,
        ]

    def result(self, context: FlowContext) -> dict[str, Any]:
        return {
            "deleted": {self.key: context.data[self.key]},
            "label": context.state["label"],
            "digitizations": context.state["digitizations"],
        }

    def subject(self, context: FlowContext) -> tuple[str, str, str]:
        return self.key, str(context.data[self.key]), context.state.get("label", "")


class DeleteWitness(_Deletion):
    name = "delete_witness"
    label = N_("Delete a witness")
    model = Witness
    key = "witness"
    missing = N_("No such witness.")
    what = N_("The witness “%(label)s”")

    def digitization_ids(self, entry: Any) -> list[int]:
        return [digitization.id for digitization in entry.digitizations]


class DeleteDigitization(_Deletion):
    name = "delete_digitization"
    label = N_("Delete a digitization")
    model = Digitization
    key = "digitization"
    missing = N_("No such digitization.")
    what = N_("The digitization “%(label)s”")

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        entry = self._entry(data)
        return [*_digitization_locks([entry.id]), _witness_lock(entry.witness)]

    def digitization_ids(self, entry: Any) -> list[int]:
        return [entry.id]

    def _list(self, context: FlowContext) -> None:
        super()._list(context)
        context.state["label"] = self._entry(context.data).display_label
        context.save()


class DeleteWork(_Deletion):
    """A work goes with its set memberships; its witnesses stay (each may carry others)."""

    name = "delete_work"
    label = N_("Delete a work")
    model = Work
    key = "work"
    missing = N_("No such work.")
    what = N_("The work “%(label)s”")


class DeleteSeries(_Deletion):
    """A series goes with its set memberships; its witnesses stay, in no series."""

    name = "delete_series"
    label = N_("Delete a series")
    model = Series
    key = "series"
    missing = N_("No such series.")
    what = N_("The series “%(label)s”")


class MergeWitnesses(Flow):
    """`merged` becomes part of `into`: its digitizations, works, series and set memberships
    move over, then it is deleted."""

    name = "merge_witnesses"
    label = N_("Merge two witnesses")

    def check(self, user: User, data: Any) -> dict[str, Any]:
        into, merged = _id(data, "into"), _id(data, "merged")
        if into == merged:
            raise FlowError(_("A witness cannot be merged into itself."))
        _witness(into, user)
        _witness(merged, user)
        return {"into": into, "merged": merged}

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        into, merged = _present(Witness, data["into"]), _present(Witness, data["merged"])
        moved = [digitization.id for digitization in merged.digitizations]
        return [_witness_lock(into), _witness_lock(merged), *_digitization_locks(moved)]

    def _merge(self, context: FlowContext) -> None:
        into = db.session.get(Witness, context.data["into"])
        merged = db.session.get(Witness, context.data["merged"])
        if into is None or merged is None:
            raise FlowError(_("No such witness."))
        context.state["digitizations"] = [d.id for d in merged.digitizations]
        db.session.execute(
            update(Digitization)
            .where(Digitization.witness_id == merged.id)
            .values(witness_id=into.id),
            execution_options={"synchronize_session": False},
        )
        into.works = list({work.id: work for work in [*into.works, *merged.works]}.values())
        into.series_id = into.series_id or merged.series_id
        for field in ("place", "date", "description"):
            if not getattr(into, field):
                setattr(into, field, getattr(merged, field))
        sets = set_witnesses.c
        already = select(sets.document_set_id).where(sets.witness_id == into.id)
        db.session.execute(
            insert(set_witnesses).from_select(
                ["document_set_id", "witness_id"],
                select(sets.document_set_id, literal(into.id)).where(
                    sets.witness_id == merged.id, sets.document_set_id.not_in(already)
                ),
            )
        )
        db.session.flush()
        db.session.expire(merged, ["digitizations"])
        db.session.delete(merged)
        db.session.flush()

    def steps(self) -> list[Step]:
        return [Step("merge the witnesses", self._merge, where="database")]

    def result(self, context: FlowContext) -> dict[str, Any]:
        return {"witness": context.data["into"], "digitizations": context.state["digitizations"]}

    def subject(self, context: FlowContext) -> tuple[str, str, str]:
        return _subject(Witness, context.data["into"])


class MoveDigitization(Flow):
    name = "move_digitization"
    label = N_("Move a digitization to another witness")

    def check(self, user: User, data: Any) -> dict[str, Any]:
        digitization: Digitization = _editable(
            Digitization, _id(data, "digitization"), user, _("No such digitization.")
        )
        target = _witness(_id(data, "witness"), user)
        if digitization.witness_id == target.id:
            raise FlowError(_("The digitization already belongs to that witness."))
        return {"digitization": digitization.id, "witness": target.id}

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        digitization = _present(Digitization, data["digitization"])
        target = _present(Witness, data["witness"])
        return [
            *_digitization_locks([digitization.id]),
            _witness_lock(digitization.witness),
            _witness_lock(target),
        ]

    def _move(self, context: FlowContext) -> None:
        digitization = db.session.get(Digitization, context.data["digitization"])
        target = db.session.get(Witness, context.data["witness"])
        if digitization is None or target is None:
            raise FlowError(_("The digitization or the witness is gone."))
        context.state["from"] = digitization.witness_id
        digitization.witness_id = target.id
        db.session.flush()

    def steps(self) -> list[Step]:
        return [Step("move the digitization", self._move, where="database")]

    def result(self, context: FlowContext) -> dict[str, Any]:
        return {
            "digitization": context.data["digitization"],
            "witness": context.data["witness"],
            "from": context.state["from"],
        }

    def subject(self, context: FlowContext) -> tuple[str, str, str]:
        return _subject(Digitization, context.data["digitization"])


class ImportWitness(Flow):
    """A new witness from a IIIF manifest, with its digitization and every page, or nothing:
    the images are copied aside first, the rows written together, the images put in place."""

    name = "import_witness"
    label = N_("Import a IIIF manifest as a new witness")

    def check(self, user: User, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise FlowError(_("Give the flow's data as a JSON object."))
        url = data.get("manifest_url")
        if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
            raise FlowError(_("Give “manifest_url” as the http(s) URL of a IIIF manifest."))
        if len(url) > MAX_URL:
            raise FlowError(_("The manifest URL is longer than %(n)s characters.", n=MAX_URL))
        siglum = data.get("siglum", "")
        if not isinstance(siglum, str) or len(siglum) > 200:
            raise FlowError(_("Give “siglum” as a text of at most 200 characters."))
        kind = data.get("kind", "manuscript")
        try:
            check_storage(user)
        except UserError as exc:
            raise FlowError(str(exc)) from exc
        if kind not in WITNESS_KINDS:
            raise FlowError(
                _("Give “kind” as one of: %(kinds)s.", kinds=", ".join(sorted(WITNESS_KINDS)))
            )
        return {"manifest_url": url.strip(), "siglum": siglum.strip(), "kind": kind}

    def locks(self, data: dict[str, Any]) -> list[Lock]:
        digest = hashlib.sha256(data["manifest_url"].encode()).hexdigest()[:40]
        return [Lock(f"manifest:{digest}", _("The manifest %(url)s", url=data["manifest_url"]))]

    def _read(self, context: FlowContext) -> None:
        label, pages = fetch_manifest(context.data["manifest_url"])
        context.state["label"] = label
        context.state["pages"] = [[page.label, page.image_url] for page in pages]
        context.save()

    def _copy(self, context: FlowContext) -> None:
        staging = _folder(context, "staging")
        context.state["staging"] = staging
        pages = context.state["pages"]
        sizes = []
        for order, (_label, url) in enumerate(pages, start=1):
            context.advance(order - 1, len(pages), f"image {order} of {len(pages)}")
            try:
                image = fetch_image(url, f"Page {order} ({url})")
            except UserError as exc:
                raise FlowError(
                    _(
                        "Image %(n)s could not be copied, so nothing was imported: %(why)s",
                        n=order,
                        why=exc,
                    )
                ) from exc
            storage.save_image(f"{staging}/{order:04d}.jpg", image)
            sizes.append([image.width, image.height])
        context.state["sizes"] = sizes
        context.save()

    def _remove_staging(self, context: FlowContext) -> None:
        _remove_flow_files(context)

    def _record(self, context: FlowContext) -> None:
        user = context.user
        data, state = context.data, context.state
        witness = Witness(
            siglum=data["siglum"] or shortened(state["label"], 200) or _("Imported witness"),
            kind=data["kind"],
            created_by_id=user.id if user else None,
        )
        pages = state["pages"]
        digitization = Digitization(
            witness=witness,
            source="man",
            manifest_url=data["manifest_url"],
            label=shortened(state["label"], 300),
            status=Status.SUCCESS,
            pages_total=len(pages),
            pages_done=len(pages),
            created_by_id=witness.created_by_id,
        )
        db.session.add_all([witness, digitization])
        db.session.flush()
        for order, ((label, url), (width, height)) in enumerate(
            zip(pages, state["sizes"], strict=True), start=1
        ):
            db.session.add(
                Page(
                    digitization_id=digitization.id,
                    order=order,
                    width=width,
                    height=height,
                    file=storage.page_file(digitization.id, order),
                    label=shortened(label, 200),
                    source_url=url,
                )
            )
        db.session.flush()
        context.state.update(witness=witness.id, digitization=digitization.id)

    def _put_in_place(self, context: FlowContext) -> None:
        storage.move(context.state["staging"], f"pages/{context.state['digitization']}")
        _remove_flow_files(context)

    def steps(self) -> list[Step]:
        return [
            Step("read the manifest", self._read),
            Step("copy the images", self._copy, self._remove_staging),
            Step("record the witness", self._record, where="database"),
            Step("put the images in place", self._put_in_place, where="finish"),
        ]

    def result(self, context: FlowContext) -> dict[str, Any]:
        return {
            "witness": context.state["witness"],
            "digitization": context.state["digitization"],
            "pages": len(context.state["pages"]),
        }

    def subject(self, context: FlowContext) -> tuple[str, str, str]:
        if "witness" in context.state:
            return _subject(Witness, context.state["witness"])
        return "manifest", "", context.data["manifest_url"][:300]
