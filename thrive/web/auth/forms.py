"""Account forms (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from thrive.services.accounts.learners import MIN_PASSWORD_LENGTH
from thrive.services.accounts.names import USERNAME_PATTERN

from ...timeutil import timezone_names


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in")
    submit = SubmitField("Sign in")


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(min=3, max=64),
                    Regexp(USERNAME_PATTERN, message="Use letters, digits, '.', '_' or '-'.")],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    email = EmailField("Email (optional)", validators=[Optional(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    timezone = SelectField("Time zone", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat password",
                            validators=[DataRequired(), EqualTo("password", message="Passwords do not match.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Create account")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(n, n.replace("_", " ")) for n in timezone_names()]
