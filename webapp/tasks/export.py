"""Export a document set's results as one zip: every successful treatment on the set, each
as its task module archives it (CSVs, IIIF annotation lists, SVGs), and an index."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any, ClassVar

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.document_sets.access import usable_set
from webapp.extensions import db
from webapp.i18n import N_
from webapp.lifecycle import Status
from webapp.security import DatabaseInteger
from webapp.task_modules.registry import task_modules
from webapp.tasks.base import BackgroundTask, InputError, TaskFailed
from webapp.tasks.inputs import IntParameter, ListParameter, Parameter, StringParameter
from webapp.tasks.run import TaskRun
from webapp.treatments.models import Treatment


class ExportResults(BackgroundTask):
    name = "export_results"
    label = N_("Export a set's results")
    description = N_(
        "One zip of every successful treatment on a document set: regions as CSV and IIIF "
        "annotation lists, pairs as CSV, vectorizations as SVG files."
    )
    inputs: ClassVar[dict[str, Parameter]] = {
        "document_set": IntParameter(
            label=N_("Document set"),
            help="The id of a set you may see",
            min=1,
            max=DatabaseInteger.LARGEST,
        ),
    }
    outputs: ClassVar[dict[str, Parameter]] = {
        "treatments": ListParameter(label=N_("The treatments exported"), of=StringParameter()),
        "files": IntParameter(label=N_("How many files the zip holds")),
    }

    def check(self, user: Any, inputs: dict[str, Any]) -> None:
        if usable_set(user, str(inputs["document_set"])) is None:
            raise InputError({"document_set": ["No such document set, or not one you may see."]})

    def run(self, run: TaskRun, **inputs: Any) -> dict[str, Any]:
        document_set = usable_set(run.owner, str(inputs["document_set"]))
        if document_set is None:
            raise TaskFailed(_("The document set is gone, or no longer one you may see."))
        treatments = list(
            db.session.scalars(
                select(Treatment)
                .where(
                    Treatment.document_set_id == document_set.id,
                    Treatment.status == Status.SUCCESS,
                    Treatment.task_type.in_(list(task_modules())),
                )
                .order_by(Treatment.finished_at, Treatment.id)
            )
        )
        if not treatments:
            raise TaskFailed(
                _("No treatment has succeeded on “%(title)s” yet.", title=document_set.title)
            )
        run.set_target(len(treatments))
        run.set_sub_state(f"Archiving {len(treatments)} treatments")
        storage = Path(current_app.config["STORAGE_DIR"])
        storage.mkdir(parents=True, exist_ok=True)
        index = []
        files = 0
        with tempfile.NamedTemporaryFile(dir=storage, suffix=".zip", delete=False) as handle:
            path = Path(handle.name)
        try:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for treatment in treatments:
                    run.check_cancelled()
                    module = task_modules()[treatment.task_type]
                    folder = f"{treatment.task_type}-{treatment.id[:8]}"
                    for name, content in module.archive(treatment):
                        archive.writestr(f"{folder}/{name}", content)
                        files += 1
                    index.append(
                        {
                            "id": treatment.id,
                            "task": treatment.task_type,
                            "label": module.label,
                            "folder": folder,
                            "parameters": treatment.parameters,
                            "finished_at": treatment.finished_at.isoformat()
                            if treatment.finished_at
                            else None,
                            "page": url_for(
                                "treatments.detail", treatment_id=treatment.id, _external=True
                            ),
                        }
                    )
                    run.advance()
                described = {"document_set": document_set.title, "treatments": index}
                archive.writestr("index.json", json.dumps(described, indent=2))
            name = f"results-set-{document_set.id}.zip"
            run.add_file(name, path, "application/zip")
        finally:
            path.unlink(missing_ok=True)
        count = len(treatments)
        run.say(f"{count} treatment{'s' if count != 1 else ''}, {files} files.")
        return {"treatments": [t.id for t in treatments], "files": files}
