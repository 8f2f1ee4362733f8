"""Import IIIF manifests into a witness: one task per manifest, and a container task for a
list of them, whose state and progress are its children's."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from flask import url_for
from flask_babel import gettext as _

from webapp.catalog.iiif_import import copy_manifest_images, record_import
from webapp.catalog.models import Digitization, Witness
from webapp.extensions import db
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.security import DatabaseInteger
from webapp.tasks.base import BackgroundTask, InputError, TaskCancelled, TaskFailed
from webapp.tasks.inputs import IntParameter, ListParameter, Parameter, StringParameter
from webapp.tasks.run import TaskRun

URL_LENGTH = 2000
WITNESS = IntParameter(
    label=N_("Witness"),
    help="The id of the witness the digitizations belong to",
    min=1,
    max=DatabaseInteger.LARGEST,
)


def _witness(inputs: dict[str, Any]) -> Witness | None:
    return db.session.get(Witness, inputs["witness"])


def _web_address(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ImportManifest(BackgroundTask):
    name = "import_manifest"
    label = N_("Import a IIIF manifest")
    description = N_(
        "Read a IIIF manifest (Presentation 2 or 3) and copy its images into a witness."
    )
    inputs: ClassVar[dict[str, Parameter]] = {
        "witness": WITNESS,
        "url": StringParameter(label=N_("Manifest URL"), max_length=URL_LENGTH),
        "label": StringParameter(label=N_("Label"), max_length=300, blank=True, default=""),
    }
    outputs: ClassVar[dict[str, Parameter]] = {
        "digitization": IntParameter(label=N_("The new digitization's id")),
        "pages": IntParameter(label=N_("Images copied")),
        "failed": IntParameter(label=N_("Images that could not be copied")),
    }

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        problems = {}
        if _witness(inputs) is None:
            problems["witness"] = ["No such witness."]
        if not _web_address(inputs["url"]):
            problems["url"] = ["Give the manifest's http(s) address."]
        if problems:
            raise InputError(problems)

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        witness = _witness(inputs)
        if witness is None:
            raise TaskFailed(_("The witness is gone."))
        run.set_sub_state("Reading the manifest")
        digitization = record_import(witness, inputs["url"], run.owner, inputs["label"])
        run.set_target(digitization.pages_total)
        run.set_sub_state(f"Copying {digitization.pages_total} images")
        run.add_url(
            "The digitization",
            url_for("catalog.digitization", digitization_id=digitization.id, _external=True),
        )

        def going_on(done: int) -> bool:
            try:
                run.set_progress(done)
            except TaskCancelled:
                return False
            return True

        copy_manifest_images(digitization.id, going_on)
        db.session.expire_all()
        copied = db.session.get(Digitization, digitization.id)
        assert copied is not None
        if copied.state is Status.CANCELLED:
            run.check_cancelled()
            raise TaskFailed(_("The import was cancelled from the catalogue."))
        if copied.state is not Status.SUCCESS:
            raise TaskFailed(copied.error or copied.message or "The images could not be copied.")
        run.set_progress(copied.pages_total)
        run.say(copied.message)
        return {
            "digitization": copied.id,
            "pages": copied.pages_done,
            "failed": len(copied.page_errors),
        }


class ImportManifests(BackgroundTask):
    name = "import_manifests"
    label = N_("Import IIIF manifests")
    description = N_(
        "Import a list of IIIF manifests into a witness: one import task per manifest, "
        "followed together."
    )
    inputs: ClassVar[dict[str, Parameter]] = {
        "witness": WITNESS,
        "urls": ListParameter(
            label=N_("Manifest URLs"),
            of=StringParameter(max_length=URL_LENGTH),
            min_items=1,
            max_items=200,
        ),
    }

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        problems = {}
        if _witness(inputs) is None:
            problems["witness"] = ["No such witness."]
        bad = [
            f"Item {n}: give the manifest's http(s) address."
            for n, url in enumerate(inputs["urls"], start=1)
            if not _web_address(url)
        ]
        if bad:
            problems["urls"] = bad
        if problems:
            raise InputError(problems)

    def run(self, run: TaskRun, **inputs: Any) -> None:
        for url in inputs["urls"]:
            run.start_child("import_manifest", {"witness": inputs["witness"], "url": url})
        run.say(f"Importing {len(inputs['urls'])} manifests.")
