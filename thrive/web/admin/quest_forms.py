"""Forms of the side quest and achievement admin sections (§10, §11).

Choices (tiers, activity types, quests) come from the data at request time.
Dates are platform-local calendar days: a window "from 3 Dec to 10 Dec" is
``[3 Dec 00:00, 11 Dec 00:00)`` in ``THRIVE_TIMEZONE`` (see :func:`window`).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from thrive.models.achievements import COUNTERS, CRITERIA_KINDS
from thrive.models.quests import QUEST_DIFFICULTIES, QUEST_REPEATS
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, local_date, platform_timezone_name, zone
from thrive.web.quests.views import DIFFICULTIES

from .labels import LABELS

#: Criteria kinds as the admin reads them (stored keys in ``criteria.kind``).
CRITERIA_LABELS = {"counter": _l("Lifetime counter"), "activity_count": _l("Activity count"),
                   "streak": _l("Streak (days)"), "tier": _l("Tier"), "level": _l("Level"), "points": _l("Points"),
                   "quests": _l("Side quests completed"), "circle_goals": _l("Circle goals reached")}

KEY = [DataRequired(message=_l("A key is required.")), Length(min=2, max=64),
       Regexp(r"^[a-z0-9][a-z0-9_-]+$", message=_l("Lowercase letters, digits, '-' and '_' only."))]


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _instant(day: date | None) -> datetime | None:
    if day is None:
        return None
    return as_utc(datetime.combine(day, time(0, 0), tzinfo=zone(platform_timezone_name())))


def window(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC instants of a window given by platform-local first and last days (both inclusive, None = open)."""
    return _instant(start), _instant(end + timedelta(days=1)) if end else None


def window_days(start: datetime | None, until: datetime | None) -> tuple[date | None, date | None]:
    """The inverse of :func:`window`, for filling the form."""
    tz = platform_timezone_name()
    first = local_date(start, tz) if start else None
    last = local_date(until, tz) - timedelta(days=1) if until else None
    return first, last


class QuestForm(FlaskForm):
    key = StringField(_l("Key (stable identifier)"), validators=KEY)
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("A title is required.")), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    topic = StringField(_l("Topic (shown on the card)"), validators=[Optional(), Length(max=64)])
    difficulty = SelectField(_l("Difficulty"), choices=_choices((d, DIFFICULTIES[d]) for d in QUEST_DIFFICULTIES))
    reward = IntegerField(_l("Reward in points (empty: 50 / 100 / 200 by difficulty)"),
                          validators=[Optional(), NumberRange(min=1, max=1000)])
    min_tier = SelectField(_l("Unlocks at tier"))
    activity_type = SelectField(_l("Counts this activity"))
    target = IntegerField(_l("How many"), validators=[DataRequired(message=_l("How many are needed?")),
                                                  NumberRange(min=1, max=1000)])
    topic_filter = StringField(_l("Only on this topic (metadata.topic; empty = any)"),
                               validators=[Optional(), Length(max=64)])
    available_from = DateField(_l("Open from (first day, empty = now)"), validators=[Optional()])
    available_until = DateField(_l("Open until (last day, empty = open-ended)"), validators=[Optional()])
    repeat = SelectField(_l("Repeats"), choices=_choices(
        (r, {"once": _l("Once"), "weekly": _l("Every week")}[r]) for r in QUEST_REPEATS))
    prerequisite_id = SelectField(_l("Requires completing first"), coerce=int)
    position = IntegerField(_l("Order on the board"), default=0, validators=[Optional()])

    def fill_choices(self, quests, editing_id: int | None = None) -> QuestForm:
        registry = load_registry()
        self.min_tier.choices = _choices((t.key, f"{t.emoji} {t.name}".strip()) for t in registry.tiers)
        self.activity_type.choices = _choices(sorted((r.activity_type, f"{r.label} ({r.activity_type})")
                                                     for r in registry.rules.values()))
        self.prerequisite_id.choices = _choices([(0, gettext("— none —"))] + [(q.id, q.title) for q in quests
                                                                     if q.id != editing_id])
        return self

    def values(self) -> dict:
        start, until = window(self.available_from.data, self.available_until.data)
        return {
            "key": self.key.data, "title": self.title.data, "description": self.description.data,
            "topic": self.topic.data, "difficulty": self.difficulty.data, "reward": self.reward.data,
            "min_tier": self.min_tier.data, "activity_type": self.activity_type.data, "target": self.target.data,
            "topic_filter": self.topic_filter.data, "available_from": start, "available_until": until,
            "repeat": self.repeat.data, "prerequisite_id": self.prerequisite_id.data or None,
            "position": self.position.data or 0,
        }


class AchievementForm(FlaskForm):
    key = StringField(_l("Key (stable identifier)"), validators=KEY)
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("A name is required.")), Length(max=80)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    criteria_text = StringField(_l("Criteria in plain language"), validators=[
        DataRequired(message=_l("Say in plain words how to earn it.")), Length(max=200)])
    kind = SelectField(_l("Criterion"), choices=_choices((k, CRITERIA_LABELS[k]) for k in CRITERIA_KINDS))
    target = IntegerField(_l("Target (count, days, level or points)"), validators=[Optional(), NumberRange(min=1)])
    counter = SelectField(_l("Lifetime counter (for “counter”)"), choices=_choices(
        (c, LABELS[c]) for c in COUNTERS))
    activity_type = SelectField(_l("Activity type (for “activity count”)"))
    tier = SelectField(_l("Tier (for “tier”)"))
    icon = StringField(_l("Icon (an emoji)"), default="🏅", validators=[Optional(), Length(max=16)])
    colour = StringField(_l("Colour"), default="#1c7ed6", validators=[
        Optional(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour like #1c7ed6."))])
    group = StringField(_l("Group"), default="General", validators=[Optional(), Length(max=40)])
    secret = BooleanField(_l("Secret (shown as ??? until earned)"))
    reward = IntegerField(_l("Reward in points (25–100)"), default=25, validators=[
        DataRequired(message=_l("A reward is required.")), NumberRange(min=25, max=100)])
    position = IntegerField(_l("Order in its group"), default=0, validators=[Optional()])

    def fill_choices(self) -> AchievementForm:
        registry = load_registry()
        self.tier.choices = _choices((t.key, f"{t.emoji} {t.name}".strip()) for t in registry.tiers)
        self.activity_type.choices = _choices(sorted((r.activity_type, f"{r.label} ({r.activity_type})")
                                                     for r in registry.rules.values()))
        return self

    def criteria(self) -> dict:
        kind = self.kind.data
        if kind == "tier":
            return {"kind": kind, "tier": self.tier.data}
        criteria = {"kind": kind, "target": self.target.data}
        if kind == "counter":
            criteria["counter"] = self.counter.data
        elif kind == "activity_count":
            criteria["activity_type"] = self.activity_type.data
        return criteria

    def values(self) -> dict:
        return {
            "key": self.key.data, "name": self.name.data, "description": self.description.data,
            "criteria_text": self.criteria_text.data, "criteria": self.criteria(), "icon": self.icon.data,
            "colour": self.colour.data, "group": self.group.data, "secret": self.secret.data,
            "reward": self.reward.data, "position": self.position.data or 0,
        }


class RevokeForm(FlaskForm):
    username = StringField(_l("Learner's username"), validators=[
        DataRequired(message=_l("Whose badge?")), Length(max=64)])
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[
        DataRequired(message=_l("A reason is required.")), Length(max=500)])
