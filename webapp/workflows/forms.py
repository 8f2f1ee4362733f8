"""The forms of the workflow pages: run a definition on a set, save a definition."""

from __future__ import annotations

import json
from typing import Any

from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from webapp.document_sets.access import usable_sets
from webapp.forms import Form
from webapp.i18n import _l
from webapp.sharing import VISIBILITIES
from webapp.workflows.definitions import BUILT_IN, FULL_ANALYSIS, definitions_for


class RunForm(Form):
    definition = SelectField(_l("Workflow"), choices={})
    document_set = SelectField(_l("Document set"), choices={})
    submit = SubmitField(_l("Run"))

    def set_choices(self, user: Any) -> None:
        self.definition.choices = {d.key: d.name for d in definitions_for(user)}
        self.document_set.choices = {str(s.id): s.title for s in usable_sets(user)}


class DefinitionForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    visibility = SelectField(_l("Who may run it"), choices=VISIBILITIES)
    shared_with = TextAreaField(
        _l("Shared with (emails, one per line)"), validators=[Length(max=10_000)]
    )
    steps = TextAreaField(
        _l("Steps"),
        default=json.dumps(BUILT_IN[FULL_ANALYSIS][1], indent=2),
        validators=[InputRequired(), Length(max=50_000)],
        description=_l(
            "A JSON list of steps: each has a name, a task (regions, vectorization, "
            "similarity), its parameters, and for tasks that run on regions, "
            '"inputs": {"regions_treatment": "<the regions step\'s name>"}.'
        ),
    )
    submit = SubmitField(_l("Save"))
