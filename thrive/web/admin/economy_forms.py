"""Forms and messages of the economy sections (rules, ladder, goal templates, moderation, configuration).

Services report invalid input as ``{field: code}``; :func:`apply_errors` puts
the matching sentence under each field (the web layer owns the wording).
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from thrive.models import CATEGORIES

NUMBER = "Enter a whole number."

MESSAGES = {
    "required": "This field is required.",
    "invalid_key": "Use lower-case letters, digits and underscores, starting with a letter.",
    "taken": "This key is already used.",
    "duplicate_key": "Each key must be different.",
    "too_long": "This is too long.",
    "unknown_category": "Choose one of the categories.",
    "not_integer": NUMBER,
    "negative": "Must be 0 or more (unless negative amounts are allowed).",
    "out_of_range": "This number is out of range.",
    "min_over_max": "The maximum must be at least the minimum.",
    "invalid_difficulty": "Write name=points pairs with whole points, e.g. beginner=10, advanced=50.",
    "unknown_kind": "Choose a kind of goal.",
    "unknown_activity_type": "Choose activity types from the rules.",
    "first_not_zero": "The first threshold must be 0.",
    "not_increasing": "Thresholds must increase strictly, from top to bottom.",
    "empty": "Give at least one row.",
    "too_many": "Too many levels.",
    "invalid_colour": "Use a colour like #e8590c.",
    "unknown_curve": "Choose a curve.",
    "tier_in_use": "A tier that learners hold cannot be removed (tiers never go down).",
}


def message(code: str) -> str:
    return MESSAGES.get(code, code.replace("_", " ").capitalize() + ".")


def apply_errors(form, errors: dict[str, str], fallback: str | None = None) -> list[str]:
    """Attach each ``field → code`` error to the form field of that name; return the ones without a field."""
    loose = []
    for name, code in errors.items():
        target = form
        for part in name.split("."):
            try:
                target = target[int(part)] if part.isdigit() else target[part]
            except (KeyError, IndexError, TypeError):
                target = None
                break
        if target is not None and hasattr(target, "errors") and not isinstance(target.errors, dict):
            target.errors = [*list(target.errors or []), message(code)]
        else:
            loose.append(f"{name or fallback or 'document'}: {message(code)}")
    return loose


def _optional_int(label: str, **kw) -> IntegerField:
    return IntegerField(label, validators=[Optional()], **kw)


class RuleForm(FlaskForm):
    """Every §4.2 field of a point rule."""

    activity_type = StringField("Activity type (key)", validators=[Length(max=64)])
    label = StringField("Label", validators=[InputRequired(message="Give the rule a label."), Length(max=120)])
    category = SelectField("Category", choices={"": "None", **{c: c.capitalize() for c in CATEGORIES}})
    base_points = IntegerField("Base points", validators=[InputRequired(message=NUMBER)])
    difficulty_points = StringField("Points by difficulty (name=points, comma-separated; optional)",
                                    validators=[Length(max=500)])
    perfect_bonus_percent = _optional_int("Perfect-score bonus (%)")
    max_per_day = _optional_int("Cap per day (learner's local day; empty = none)")
    max_per_week = _optional_int("Cap per week (ISO week; empty = none)")
    max_ever = _optional_int("Cap ever (empty = none)")
    enabled = BooleanField("Enabled")
    allow_custom_points = BooleanField("Callers may pass a custom amount")
    min_points = _optional_int("Custom amount: minimum")
    max_points = _optional_int("Custom amount: maximum")
    allow_negative = BooleanField("Negative amounts allowed (admin adjustments)")
    requires_description = BooleanField("A description (reason) is required")
    notes = TextAreaField("Notes", validators=[Length(max=2000)])

    def rule_data(self) -> dict | None:
        """The plain values for the service, or None (with a field error) when difficulty does not parse."""
        data = {name: self[name].data for name in (
            "activity_type", "label", "category", "base_points", "perfect_bonus_percent", "max_per_day",
            "max_per_week", "max_ever", "enabled", "allow_custom_points", "min_points", "max_points",
            "allow_negative", "requires_description", "notes")}
        text = (self.difficulty_points.data or "").strip()
        difficulty = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = pair.partition("=")
            try:
                difficulty[name.strip()] = int(value.strip())
            except ValueError:
                self.difficulty_points.errors = [message("invalid_difficulty")]
                return None
            if not sep:
                self.difficulty_points.errors = [message("invalid_difficulty")]
                return None
        data["difficulty_points"] = difficulty or None
        return data


def difficulty_text(value: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (value or {}).items())


class TierRowForm(Form):
    """One rung of the ladder (no CSRF of its own: the enclosing form has it)."""

    key = StringField("Key", validators=[Length(max=32)])
    name = StringField("Name", validators=[Length(max=64)])
    threshold = IntegerField("Threshold (points)", validators=[Optional()])
    emoji = StringField("Emoji", validators=[Length(max=16)])
    colour = StringField("Colour", validators=[Length(max=16)])
    tagline = StringField("Tagline", validators=[Length(max=200)])


class LadderForm(FlaskForm):
    """The tier ladder, the level table (text), a curve generator and how promotions are announced."""

    tiers = FieldList(FormField(TierRowForm), min_entries=1)
    levels = TextAreaField("Level thresholds (points for level 1, 2, 3…; comma- or line-separated)",
                           validators=[Length(max=20000)])
    curve = SelectField("Curve", choices={"linear": "Linear", "increasing": "Increasing",
                                          "snowballing": "Snowballing"})
    curve_count = IntegerField("Levels", default=23, validators=[Optional(), NumberRange(min=2, max=200)])
    curve_base = IntegerField("Base step (points)", default=50, validators=[Optional(), NumberRange(min=1)])
    curve_coefficient = FloatField("Coefficient", default=0.2, validators=[Optional(), NumberRange(min=0)])
    announce = RadioField("Promotions this change causes", default="celebrate",
                          choices={"celebrate": "Celebrate them (notification and celebration)",
                                   "silent": "Apply them silently"})

    def tier_rows(self) -> list[dict]:
        """Rows with any content (a blank spare row is ignored)."""
        rows = []
        for entry in self.tiers:
            row = {k: entry.form[k].data for k in ("key", "name", "threshold", "emoji", "colour", "tagline")}
            if any(v not in (None, "") for v in row.values()):
                rows.append({**row, "_index": len(rows)})
        return rows

    def level_values(self) -> list | None:
        """Thresholds as ints, or None (with a field error) when a value is not a whole number."""
        parts = [p for p in (self.levels.data or "").replace("\n", ",").split(",") if p.strip()]
        try:
            return [int(p.strip()) for p in parts]
        except ValueError:
            self.levels.errors = [*self.levels.errors, NUMBER]
            return None


class GoalTemplateForm(FlaskForm):
    key = StringField("Key", validators=[Length(max=64)])
    title = StringField("Title", validators=[InputRequired(message="Give the goal a title."), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    kind = SelectField("Kind", choices={"activity_count": "Count activities", "streak_days": "Reach a streak",
                                        "new_quiz_topics": "Quizzes on new topics"})
    activity_types = SelectMultipleField("Activity types that count", choices={}, validate_choice=False)
    target = IntegerField("Target", validators=[InputRequired(message=NUMBER)])
    reward = IntegerField("Reward (points)", validators=[InputRequired(message=NUMBER)])
    position = IntegerField("Position in the list", default=0, validators=[Optional()])
    enabled = BooleanField("Enabled", default=True)


class ImportConfigForm(FlaskForm):
    file = FileField("Configuration file (.json)", validators=[FileAllowed(["json"], "Upload a .json file.")])
    document = TextAreaField("…or paste the JSON document", validators=[Length(max=2 * 1024 * 1024)])
    celebrate = BooleanField("Celebrate promotions a new ladder causes")


class NoteForm(FlaskForm):
    note = StringField("Note (kept in the moderation history; not shown to the learner)",
                       validators=[Length(max=500)])
