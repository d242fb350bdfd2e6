"""Account forms (Flask-WTF: CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from thrive.services.accounts.learners import MIN_PASSWORD_LENGTH
from thrive.services.accounts.names import USERNAME_PATTERN

from ..timezones import timezone_choices


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in"))
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64),
                    Regexp(USERNAME_PATTERN, message=_l("Use letters, digits, '.', '_' or '-'."))],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices(self.timezone.data)


class LinkForm(FlaskForm):
    """Start linking the platform account (CSRF only)."""

    submit = SubmitField("Link")


class UnlinkForm(FlaskForm):
    """Unlink the platform account; a password is asked for when the account has none (issue 13)."""

    password = PasswordField("New password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat password",
                            validators=[EqualTo("password", message="Passwords do not match.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Unlink")
