from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.forms import Form
from webapp.i18n import _l
from webapp.sharing import VISIBILITIES

TITLE_MAX = 200


class TitleForm(Form):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give the set a title.")),
            Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters."),
        ],
        filters=[lambda value: value.strip() if value else value],
    )


class SharingForm(Form):
    visibility = SelectField(_l("Who may see it"), choices=VISIBILITIES)
    shared_with = TextAreaField(
        _l("Shared with (emails, one per line)"), validators=[Length(max=10_000)]
    )
