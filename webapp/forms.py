"""The base of every form: filled from the request's form fields, or from a JSON object of
strings; any other body is an empty form (its fields then say what is missing)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict


def _json_fields() -> ImmutableMultiDict[str, str]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    fields = {k: v for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else {}
    return ImmutableMultiDict(fields)


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and request.is_json and not request.form and not request.files:
                return _json_fields()
            return super().wrap_formdata(form, formdata)
