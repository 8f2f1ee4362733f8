from __future__ import annotations

from wtforms import BooleanField, EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from webapp.forms import Form
from webapp.i18n import _l


class NewUserForm(Form):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(min=8, max=200)])
    is_admin = BooleanField(_l("Administrator"))


# A quota is a whole number from 0 up; left empty, there is none.
_QUOTA = [Optional(), NumberRange(min=0, max=1_000_000_000, message=_l("A whole number from 0."))]


class QuotaForm(Form):
    page_quota = IntegerField(_l("Pages a month"), validators=_QUOTA)
    storage_quota_mb = IntegerField(_l("Storage (MB)"), validators=_QUOTA)
