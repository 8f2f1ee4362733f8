from __future__ import annotations

from flask_wtf.file import FileAllowed, MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Length, Optional

from webapp.catalog.models import WITNESS_KINDS
from webapp.forms import Form

IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "tif", "tiff", "webp", "jp2", "gif"]


def _title(label: str, maximum: int = 300) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(message="Give a title."), Length(max=maximum)],
        filters=[lambda value: value.strip() if value else value],
    )


class WorkForm(Form):
    title = _title("Title")
    author = StringField("Author", validators=[Length(max=200)])
    date = StringField("Date", validators=[Length(max=100)])
    description = TextAreaField("Description", validators=[Length(max=10_000)])


class SeriesForm(Form):
    title = _title("Title")
    description = TextAreaField("Description", validators=[Length(max=10_000)])


class WitnessForm(Form):
    siglum = _title("Shelfmark or siglum", 200)
    kind = SelectField("Kind", choices=WITNESS_KINDS)
    place = StringField("Place", validators=[Length(max=200)])
    date = StringField("Date", validators=[Length(max=100)])
    series_id = SelectField("Series", coerce=int, validators=[Optional()])
    work_ids = SelectMultipleField("Works", coerce=int, validators=[Optional()])
    description = TextAreaField("Description", validators=[Length(max=10_000)])


class ImportForm(Form):
    manifest_url = URLField(
        "IIIF manifest URL",
        validators=[
            DataRequired(),
            URL(require_tld=False, message="Give an http(s) URL."),
            Length(max=2000),
        ],
    )
    label = StringField("Label", validators=[Length(max=300)])


class UploadForm(Form):
    images = MultipleFileField(
        "Page images, in page order",
        validators=[
            DataRequired(message="Choose at least one image file."),
            FileAllowed(IMAGE_EXTENSIONS, "Only image files are accepted."),
        ],
    )
    label = StringField("Label", validators=[Length(max=300)])
