from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[Length(max=120)])
    password = PasswordField("Password", validators=[InputRequired(), Length(min=8, max=200)])
    is_admin = BooleanField("Administrator")
