"""Forms of the admin core sections (§11). Validation messages are shown next to their fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

MAX_ADJUSTMENT = 1_000_000


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the key a name."), Length(max=100)])


class AdjustPointsForm(FlaskForm):
    points = IntegerField("Points (negative to remove)", validators=[
        InputRequired(message="Enter a number of points."),
        NumberRange(min=-MAX_ADJUSTMENT, max=MAX_ADJUSTMENT, message="Between -1,000,000 and 1,000,000."),
    ])
    reason = TextAreaField("Reason (kept in the ledger and the audit log)", validators=[
        DataRequired(message="A reason is required."), Length(max=500)])
    message = TextAreaField("Message to the learner (optional, sent as a notification)",
                            validators=[Optional(), Length(max=500)])

    def validate_points(self, field):
        from wtforms.validators import ValidationError

        if field.data == 0:
            raise ValidationError("An adjustment of 0 points changes nothing.")


class BulkAwardForm(FlaskForm):
    file = FileField("CSV file (username or external_id, activity_type, points, reason)", validators=[
        FileRequired(message="Choose a CSV file."), FileAllowed(["csv", "txt"], "Upload a .csv file.")])


class StaffRoleForm(FlaskForm):
    role = SelectField("Staff role", validate_choice=True, choices=[
        SelectChoice("", "None (learner)"), SelectChoice("moderator", "Moderator"), SelectChoice("admin", "Admin")])
    is_learner = BooleanField("Also takes part as a learner (circles, daily visits, feeds)")


class RerunCirclesForm(FlaskForm):
    week = StringField("Week (ISO, e.g. 2026-W12)", validators=[
        DataRequired(message="Enter a week."), Regexp(r"^\d{4}-W\d{2}$", message="Use the form 2026-W12.")])


class RunJobForm(FlaskForm):
    period = StringField("Period (empty = the period due now)", validators=[Optional(), Length(max=64)])


class EraseLearnerForm(FlaskForm):
    confirm_username = StringField("Type the learner's username to confirm", validators=[
        DataRequired(message="Type the username to confirm."), Length(max=64)])
