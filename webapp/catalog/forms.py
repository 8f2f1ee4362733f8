from __future__ import annotations

from flask_wtf.file import FileAllowed, MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Length, Optional

from webapp.catalog.models import WITNESS_KINDS
from webapp.forms import Form
from webapp.i18n import _l

IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "tif", "tiff", "webp", "jp2", "gif"]


def _title(label: str, maximum: int = 300) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(message=_l("Give a title.")), Length(max=maximum)],
        filters=[lambda value: value.strip() if value else value],
    )


class WorkForm(Form):
    title = _title("Title")
    author = StringField(_l("Author"), validators=[Length(max=200)])
    date = StringField(_l("Date"), validators=[Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Length(max=10_000)])


class SeriesForm(Form):
    title = _title("Title")
    description = TextAreaField(_l("Description"), validators=[Length(max=10_000)])


class WitnessForm(Form):
    siglum = _title("Shelfmark or siglum", 200)
    kind = SelectField(_l("Kind"), choices=WITNESS_KINDS)
    place = StringField(_l("Place"), validators=[Length(max=200)])
    date = StringField(_l("Date"), validators=[Length(max=100)])
    series_id = SelectField(_l("Series"), coerce=int, validators=[Optional()])
    work_ids = SelectMultipleField(_l("Works"), coerce=int, validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Length(max=10_000)])


def _manifest_url() -> URLField:
    return URLField(
        _l("IIIF manifest URL"),
        validators=[
            DataRequired(),
            URL(require_tld=False, message=_l("Give an http(s) URL.")),
            Length(max=2000),
        ],
    )


class ImportForm(Form):
    manifest_url = _manifest_url()
    label = StringField(_l("Label"), validators=[Length(max=300)])


class UploadForm(Form):
    images = MultipleFileField(
        _l("Page images, in page order"),
        validators=[
            DataRequired(message=_l("Choose at least one image file.")),
            FileAllowed(IMAGE_EXTENSIONS, "Only image files are accepted."),
        ],
    )
    label = StringField(_l("Label"), validators=[Length(max=300)])


class NewWitnessImportForm(Form):
    manifest_url = _manifest_url()
    siglum = StringField(_l("Shelfmark or siglum"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), choices=WITNESS_KINDS)


class MergeForm(Form):
    merged_id = SelectField(_l("Witness to merge into this one"), coerce=int)


class MoveForm(Form):
    witness_id = SelectField(_l("Move to the witness"), coerce=int)
