from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length

from webapp.forms import Form
from webapp.i18n import _l


class NewUserForm(Form):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=120)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(min=8, max=200)])
    is_admin = BooleanField(_l("Administrator"))
