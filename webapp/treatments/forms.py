from __future__ import annotations

from typing import Any, cast

from sqlalchemy import or_, select
from wtforms import BooleanField, SelectField, SubmitField

from webapp.document_sets.models import DocumentSet, set_shares
from webapp.extensions import db
from webapp.forms import Form
from webapp.security import DatabaseInteger
from webapp.task_modules.base import ParametersForm, TaskModule
from webapp.task_modules.registry import task_modules


def usable_sets(user: Any) -> list[DocumentSet]:
    """The sets a user may launch treatments on: their own, shared with them, public."""
    stmt = select(DocumentSet).order_by(DocumentSet.title)
    if not user.is_admin:
        shared = select(set_shares.c.document_set_id).where(set_shares.c.user_id == user.id)
        stmt = stmt.where(
            or_(
                DocumentSet.owner_id == user.id,
                DocumentSet.visibility == "public",
                (DocumentSet.visibility == "shared") & DocumentSet.id.in_(shared),
            )
        )
    return list(db.session.scalars(stmt))


class TreatmentForm(Form):
    document_set = SelectField("Document set", choices={})
    task_type = SelectField("Task", choices={})
    notify_email = BooleanField("Email me when it ends", default=True)
    change_task = SubmitField("Show this task's options")
    submit = SubmitField("Launch")

    def set_choices(self, user: Any) -> None:
        self.document_set.choices = {str(s.id): s.title for s in usable_sets(user)}
        self.task_type.choices = {name: m.label for name, m in task_modules().items()}

    def shown_set_id(self) -> str | None:
        """The set shown selected: the one asked for, else the first offered."""
        offered = cast(dict[str, str], self.document_set.choices)
        return cast(str | None, self.document_set.data) or next(iter(offered), None)


def usable_set(user: Any, set_id: str | None) -> DocumentSet | None:
    """The set of that id if the user may launch on it (the rule of `usable_sets`)."""
    if not (set_id and set_id.isascii() and set_id.isdigit() and len(set_id) <= 10):
        return None
    if int(set_id) > DatabaseInteger.LARGEST:
        return None
    document_set = db.session.get(DocumentSet, int(set_id))
    return document_set if document_set is not None and document_set.visible_to(user) else None


def parameters_form(
    module: TaskModule, user: Any, document_set: DocumentSet | None, formdata: Any = None
) -> ParametersForm:
    form = module.form_class(formdata=formdata, prefix=module.name, data=module.defaults)
    form.set_choices(module, user, document_set)
    return form
