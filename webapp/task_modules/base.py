"""What a task module provides to the treatment lifecycle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Blueprint, Response, abort, current_app
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from webapp.extensions import db
from webapp.forms import Form
from webapp.i18n import N_
from webapp.urls import external_url

if TYPE_CHECKING:
    from webapp.catalog.models import Digitization, Witness
    from webapp.document_sets.models import DocumentSet
    from webapp.treatments.models import Treatment


class ParametersForm(Form):
    """A module's subform; its CSRF is the treatment form's."""

    class Meta:
        csrf = False

    def get_api_parameters(self) -> dict[str, Any]:
        return {name: field.data for name, field in self._fields.items()}

    def set_choices(self, module: TaskModule, user: Any, document_set: DocumentSet | None) -> None:
        """Fill the fields whose choices depend on the API, on the user's data or on the
        document set chosen (None until the user may use one)."""


@dataclass(frozen=True)
class Stored:
    count: int
    errors: list[str] = field(default_factory=list)


class TaskModule(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    default_route: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    form_class: ClassVar[type[ParametersForm]]
    results_template: ClassVar[str]
    blueprint: ClassVar[Blueprint | None] = None
    # The table of results with a treatment_id, and what to call its rows on the page.
    result_model: ClassVar[Any] = None
    result_name: ClassVar[str] = "results"
    # The page that shows the results as pictures, and the files they can be taken away as.
    viewer_template: ClassVar[str | None] = None
    exports: ClassVar[dict[str, str]] = {}
    # What progress is counted in, singular and plural: the API reports one result per unit.
    unit: ClassVar[tuple[str, str]] = (N_("document"), N_("documents"))
    # Parameters filled from an earlier treatment, by the task that treatment must run
    # (in a workflow, from an earlier step's).
    inputs: ClassVar[dict[str, str]] = {}

    def parameter_rows(self, parameters: dict[str, Any]) -> list[tuple[str, str, str | None]]:
        """The parameters as the form names them: (label, value as chosen, the treatment an
        input parameter names, or None)."""
        fields = self.form_class(formdata=None)._fields
        rows = []
        for key, value in parameters.items():
            found = fields.get(key)
            label = str(found.label.text) if found is not None else key
            choices = dict(_pairs(getattr(found, "choices", None)))
            shown = choices.get(value, choices.get(str(value), value))
            rows.append((label, str(shown), str(value) if key in self.inputs and value else None))
        return rows

    @property
    def route(self) -> str:
        """The API's name for the task, which may differ from ours (AIKON's region_extraction)."""
        routes: dict[str, str] = current_app.config["TASK_ROUTES"]
        return routes.get(self.name, self.default_route)

    def documents(
        self, document_set: DocumentSet, parameters: dict[str, Any]
    ) -> list[dict[str, str]]:
        """The documents of a launch: by default, every digitization of the set's witnesses."""
        documents: list[dict[str, str]] = []
        for digitization in document_set.all_digitizations(with_pages=True):
            documents += self.prepare_document(digitization, **parameters)
        return documents

    def prepare_document(
        self, document: Witness | Digitization, **parameters: Any
    ) -> list[dict[str, str]]:
        from webapp.catalog.models import Witness

        digitizations = (
            [d for d in document.digitizations if d.pages]
            if isinstance(document, Witness)
            else [document]
        )
        return [
            {"type": "iiif", "src": external_url("iiif.manifest", ref=d.ref), "uid": d.ref}
            for d in digitizations
        ]

    @classmethod
    def units_total(cls, documents: int) -> int:
        """How many results a launch on this many documents waits for."""
        return documents

    @abstractmethod
    def process_results(self, treatment: Treatment, doc_uid: str, content: bytes) -> Stored:
        """Store one result file's content idempotently: how many results it holds, and the
        errors of its parts (a page the API could not read) while the rest is kept."""

    def api_documents(self, documents: list[dict[str, str]]) -> list[dict[str, str]]:
        """The documents as sent to the processing API at a launch."""
        return documents

    def api_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The parameters as the processing API reads them."""
        return dict(parameters)

    def viewer(self, treatment: Treatment, args: MultiDict[str, str]) -> dict[str, Any]:
        """What the viewer template needs, from the query string (filters, sorting, page)."""
        return {}

    def export(self, treatment: Treatment, kind: str) -> Response:
        """One of `exports`, as a download."""
        abort(404)

    def archive(self, treatment: Treatment) -> Iterator[tuple[str, bytes]]:
        """The results as files for an archive of a set's results (name, content): by
        default, each of `exports`."""
        for kind in self.exports:
            yield f"{self.name}.{kind}", self.export(treatment, kind).get_data()

    def result_rows(
        self, treatment: Treatment, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The results as JSON objects, `limit` of them from `offset`, and how many in all."""
        return [], 0

    # Whether new documents wait for the launch under way and then go together, rather than
    # each batch going at once (a task whose launches redo the documents before them).
    one_part_at_a_time: ClassVar[bool] = False

    def stored_input_documents(self, source: Treatment) -> list[dict[str, str]]:
        """The documents an earlier treatment (one of `inputs`) has results for so far."""
        return []

    @classmethod
    def parts(
        cls, previous: list[dict[str, str]], new: list[dict[str, str]]
    ) -> list[list[dict[str, str]]]:
        """How new documents are run once their inputs are stored, next to those already run:
        each list is one launch. By default, the new ones together."""
        return [new]

    @classmethod
    def failed_documents(
        cls, documents: list[dict[str, str]], done: list[str]
    ) -> list[dict[str, str]]:
        """The documents that have no result: each result names one document."""
        return [d for d in documents if d["uid"] not in done]

    def summary(self, treatment: Treatment) -> dict[str, int]:
        """Counts shown on the treatment page."""
        if self.result_model is None:
            return {}
        count = db.session.scalar(
            select(func.count())
            .select_from(self.result_model)
            .where(self.result_model.treatment_id.in_(treatment.result_ids))
        )
        return {self.result_name: count or 0}


def _pairs(choices: Any) -> list[tuple[Any, str]]:
    """A field's choices as (value, label): WTForms takes a dict, pairs or bare values."""
    if isinstance(choices, dict):
        return [(value, str(label)) for value, label in choices.items()]
    if not choices:
        return []
    return [
        (choice[0], str(choice[1])) if isinstance(choice, tuple | list) else (choice, str(choice))
        for choice in choices
    ]
