from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.document_sets.models import VISIBILITIES
from webapp.forms import Form

TITLE_MAX = 200


class TitleForm(Form):
    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Give the set a title."),
            Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters."),
        ],
        filters=[lambda value: value.strip() if value else value],
    )


class SharingForm(Form):
    visibility = SelectField("Who may see it", choices=VISIBILITIES)
    shared_with = TextAreaField(
        "Shared with (emails, one per line)", validators=[Length(max=10_000)]
    )
