"""The settings form (Flask-WTF: CSRF included); one BooleanField per §9 notification type."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from thrive.services.accounts.settings import NOTIFICATION_LABELS

from ...models.community import NOTIFICATION_TYPES
from ...timeutil import timezone_names

PRIVACY_FIELDS = {
    "share_activities": ("Share my activities",
                         "Your activities appear in the community feed, your circle and your profile."),
    "share_tier_upgrades": ("Share my tier upgrades",
                            "Your tier-ups appear in feeds and count in community stats."),
    "share_profile": ("Share my profile",
                      "You appear in Discover and have a public profile; otherwise others see “A learner”."),
}


def notify_field_name(notification_type: str) -> str:
    return f"notify_{notification_type}"


class SettingsForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired(message="Enter a display name."),
                                                           Length(max=100)],
                               render_kw={"autocomplete": "name", "maxlength": 100})
    timezone = SelectField("Time zone", validators=[DataRequired()])
    topics = StringField("Interests (topics, separated by commas)", validators=[Length(max=2000)],
                         render_kw={"placeholder": "Prompt Engineering, Python, Design"})
    share_activities = BooleanField(PRIVACY_FIELDS["share_activities"][0])
    share_tier_upgrades = BooleanField(PRIVACY_FIELDS["share_tier_upgrades"][0])
    share_profile = BooleanField(PRIVACY_FIELDS["share_profile"][0])
    submit = SubmitField("Save settings")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(n, n.replace("_", " ")) for n in timezone_names()]

    def notification_fields(self):
        """(type, field) pairs in §9 order."""
        return [(t, self[notify_field_name(t)]) for t in NOTIFICATION_TYPES]


for _type in NOTIFICATION_TYPES:
    setattr(SettingsForm, notify_field_name(_type), BooleanField(NOTIFICATION_LABELS[_type]))
