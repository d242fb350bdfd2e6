"""Forms of the admin core sections (§11). Validation messages are shown next to their fields."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

MAX_ADJUSTMENT = 1_000_000


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the key a name.")), Length(max=100)])


class AdjustPointsForm(FlaskForm):
    points = IntegerField(_l("Points (negative to remove)"), validators=[
        InputRequired(message=_l("Enter a number of points.")),
        NumberRange(min=-MAX_ADJUSTMENT, max=MAX_ADJUSTMENT, message=_l("Between -1,000,000 and 1,000,000.")),
    ])
    reason = TextAreaField(_l("Reason (kept in the ledger and the audit log)"), validators=[
        DataRequired(message=_l("A reason is required.")), Length(max=500)])
    message = TextAreaField(_l("Message to the learner (optional, sent as a notification)"),
                            validators=[Optional(), Length(max=500)])

    def validate_points(self, field):
        from wtforms.validators import ValidationError

        if field.data == 0:
            raise ValidationError(gettext("An adjustment of 0 points changes nothing."))


class BulkAwardForm(FlaskForm):
    file = FileField(_l("CSV file (username or external_id, activity_type, points, reason)"), validators=[
        FileRequired(message=_l("Choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))])


class StaffRoleForm(FlaskForm):
    role = SelectField(_l("Staff role"), validate_choice=True, choices=[
        SelectChoice("", _l("None (learner)")), SelectChoice("moderator", _l("Moderator")),
        SelectChoice("admin", _l("Admin"))])
    is_learner = BooleanField(_l("Also takes part as a learner (circles, daily visits, feeds)"))


class RerunCirclesForm(FlaskForm):
    week = StringField(_l("Week (ISO, e.g. 2026-W12)"), validators=[
        DataRequired(message=_l("Enter a week.")), Regexp(r"^\d{4}-W\d{2}$", message=_l("Use the form 2026-W12."))])


class RunJobForm(FlaskForm):
    period = StringField(_l("Period (empty = the period due now)"), validators=[Optional(), Length(max=64)])


class EraseLearnerForm(FlaskForm):
    confirm_username = StringField(_l("Type the learner's username to confirm"), validators=[
        DataRequired(message=_l("Type the username to confirm.")), Length(max=64)])
