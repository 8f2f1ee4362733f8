from __future__ import annotations

from typing import Any, cast

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, SubmitField

from webapp.document_sets.access import usable_sets
from webapp.document_sets.models import DocumentSet
from webapp.errors import UserError
from webapp.forms import Form
from webapp.i18n import _l
from webapp.task_modules.base import ParametersForm, TaskModule
from webapp.task_modules.registry import task_modules


class TreatmentForm(Form):
    document_set = SelectField(_l("Document set"), choices={})
    task_type = SelectField(_l("Task"), choices={})
    notify_email = BooleanField(_l("Email me when it ends"), default=True)
    change_task = SubmitField(_l("Show this task's options"))
    submit = SubmitField(_l("Launch"))

    def set_choices(self, user: Any) -> None:
        self.document_set.choices = {str(s.id): s.title for s in usable_sets(user)}
        self.task_type.choices = {name: m.label for name, m in task_modules().items()}

    def shown_set_id(self) -> str | None:
        """The set shown selected: the one asked for, else the first offered."""
        offered = cast(dict[str, str], self.document_set.choices)
        return cast(str | None, self.document_set.data) or next(iter(offered), None)


def parameters_form(
    module: TaskModule, user: Any, document_set: DocumentSet | None, formdata: Any = None
) -> ParametersForm:
    form = module.form_class(formdata=formdata, prefix=module.name, data=module.defaults)
    form.set_choices(module, user, document_set)
    return form


class ParameterErrors(UserError):
    """A task's parameters refused, with a message per parameter."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(fields.items())))
        self.fields = fields


def checked_parameters(
    module: TaskModule, user: Any, document_set: DocumentSet | None, given: dict[str, Any]
) -> dict[str, Any]:
    """A task's parameters, from a script (the API, the command line), checked by the task's
    own form as the page checks them: numbers, strings and booleans, nothing unknown. Without
    a document set (a workflow's definition), the inputs an earlier step will give are left
    out."""
    formdata: MultiDict[str, str] = MultiDict()
    problems: dict[str, list[str]] = {}
    for name, value in given.items():
        if isinstance(value, bool):
            if value:
                formdata[f"{module.name}-{name}"] = "y"
        elif isinstance(value, str | int | float):
            formdata[f"{module.name}-{name}"] = str(value)
        else:
            problems[name] = ["A number, a string or a boolean."]
    form = parameters_form(module, user, document_set, formdata)
    fed = set(module.inputs) if document_set is None else set()
    for name in fed:
        del form[name]
    problems |= {name: ["Unknown parameter."] for name in set(given) - set(form._fields)}
    if not form.validate() or problems:
        raise ParameterErrors(problems | {n: list(m) for n, m in form.errors.items()})
    return form.get_api_parameters()
