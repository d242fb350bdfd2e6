"""The settings form (Flask-WTF: CSRF included); one BooleanField per §9 notification type."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from thrive.services.accounts.settings import NOTIFICATION_LABELS

from ...models.community import NOTIFICATION_TYPES
from ..i18n import LANGUAGES
from ..timezones import timezone_choices

PRIVACY_FIELDS = {
    "share_activities": (_l("Share my activities"),
                         _l("Your activities appear in the community feed, your circle and your profile.")),
    "share_tier_upgrades": (_l("Share my tier upgrades"),
                            _l("Your tier-ups appear in feeds and count in community stats.")),
    "share_profile": (_l("Share my profile"),
                      _l("You appear in Discover and have a public profile; otherwise others see “A learner”.")),
}


#: §9 notification types as the settings page words them (translated; the service's English labels are a fallback).
NOTIFICATION_FIELD_LABELS = {
    "tier_up": _l("Reaching a new tier"),
    "level_up": _l("Reaching a new level"),
    "weekly_goal_completed": _l("Completing a weekly goal"),
    "circle_goal_completed": _l("Your Thrive Circle reaching its shared goal"),
    "streak_milestone": _l("Streak milestones (7, 30 and 100 days)"),
    "streak_at_risk": _l("A reminder when your streak is at risk"),
    "grace_day_used": _l("A grace day covering a missed day"),
    "new_follower": _l("Someone new follows you"),
    "side_quest_available": _l("A new side quest is available"),
    "circle_assigned": _l("Your Thrive Circle for the new week"),
    "weekly_recap": _l("Your personal weekly recap"),
}


def notify_field_name(notification_type: str) -> str:
    return f"notify_{notification_type}"


class SettingsForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(message=_l("Enter a display name.")),
                                                           Length(max=100)],
                               render_kw={"autocomplete": "name", "maxlength": 100})
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    # validate_choice off: a post without the field means "automatic"; set_locale() rejects other values.
    locale = SelectField(_l("Language"), validate_choice=False)
    topics = StringField(_l("Interests (topics, separated by commas)"), validators=[Length(max=2000)],
                         render_kw={"placeholder": _l("Prompt Engineering, Python, Design")})
    share_activities = BooleanField(PRIVACY_FIELDS["share_activities"][0])
    share_tier_upgrades = BooleanField(PRIVACY_FIELDS["share_tier_upgrades"][0])
    share_profile = BooleanField(PRIVACY_FIELDS["share_profile"][0])
    submit = SubmitField(_l("Save settings"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices(self.timezone.data)
        self.locale.choices = [("", _l("Automatic"))] + list(LANGUAGES.items())

    def notification_fields(self):
        """(type, field) pairs in §9 order."""
        return [(t, self[notify_field_name(t)]) for t in NOTIFICATION_TYPES]


for _type in NOTIFICATION_TYPES:
    _label = NOTIFICATION_FIELD_LABELS.get(_type, NOTIFICATION_LABELS[_type])
    setattr(SettingsForm, notify_field_name(_type), BooleanField(_label))
