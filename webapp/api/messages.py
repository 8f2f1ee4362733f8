"""marshmallow's messages in the reader's language.

The API's schemas are made when the app starts, and each field keeps its messages from then:
they are replaced, before any schema is made, by the same English texts marked for
translation and read each time a message is given. A range's message is composed when its
validator is made, and email and URL fields ask for plain strings: those stay in English.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from webapp.i18n import _l


def speak_the_readers_language() -> None:
    fields.Field.default_error_messages.update(
        required=_l("Missing data for required field."),
        null=_l("Field may not be null."),
        validator_failed=_l("Invalid value."),
    )
    fields.Integer.default_error_messages.update(invalid=_l("Not a valid integer."))
    fields.Number.default_error_messages.update(
        invalid=_l("Not a valid number."), too_large=_l("Number too large.")
    )
    fields.Float.default_error_messages.update(
        special=_l("Special numeric values (nan or infinity) are not permitted.")
    )
    fields.String.default_error_messages.update(
        invalid=_l("Not a valid string."), invalid_utf8=_l("Not a valid utf-8 string.")
    )
    fields.Boolean.default_error_messages.update(invalid=_l("Not a valid boolean."))
    fields.List.default_error_messages.update(invalid=_l("Not a valid list."))
    for mapping in (fields.Mapping, fields.Dict):
        mapping.default_error_messages.update(invalid=_l("Not a valid mapping type."))
    Schema._default_error_messages.update(
        type=_l("Invalid input type."), unknown=_l("Unknown field.")
    )
    validate.Length.message_min = _l("Shorter than minimum length {min}.")
    validate.Length.message_max = _l("Longer than maximum length {max}.")
    validate.Length.message_all = _l("Length must be between {min} and {max}.")
    validate.Length.message_equal = _l("Length must be {equal}.")
    validate.OneOf.default_message = _l("Must be one of: {choices}.")
