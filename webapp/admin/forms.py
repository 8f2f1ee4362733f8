from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length

from webapp.forms import Form


class NewUserForm(Form):
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[Length(max=120)])
    password = PasswordField("Password", validators=[InputRequired(), Length(min=8, max=200)])
    is_admin = BooleanField("Administrator")
