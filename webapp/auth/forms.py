from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from webapp.forms import Form

MIN_PASSWORD = 8


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me logged in")


class PasswordForm(Form):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=f"The password must have at least {MIN_PASSWORD} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat the new password", validators=[EqualTo("new", message="The passwords differ.")]
    )
