"""Forms and messages of the economy sections (rules, ladder, goal templates, moderation, configuration).

Services report invalid input as ``{field: code}``; :func:`apply_errors` puts
the matching sentence under each field (the web layer owns the wording).
"""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from thrive.models import CATEGORIES
from thrive.web.actions import CATEGORY_LABELS

NUMBER = _l("Enter a whole number.")

MESSAGES = {
    "required": _l("This field is required."),
    "invalid_key": _l("Use lower-case letters, digits and underscores, starting with a letter."),
    "taken": _l("This key is already used."),
    "duplicate_key": _l("Each key must be different."),
    "too_long": _l("This is too long."),
    "unknown_category": _l("Choose one of the categories."),
    "not_integer": NUMBER,
    "negative": _l("Must be 0 or more (unless negative amounts are allowed)."),
    "out_of_range": _l("This number is out of range."),
    "min_over_max": _l("The maximum must be at least the minimum."),
    "invalid_difficulty": _l("Write name=points pairs with whole points, e.g. beginner=10, advanced=50."),
    "unknown_kind": _l("Choose a kind of goal."),
    "unknown_activity_type": _l("Choose activity types from the rules."),
    "first_not_zero": _l("The first threshold must be 0."),
    "not_increasing": _l("Thresholds must increase strictly, from top to bottom."),
    "empty": _l("Give at least one row."),
    "too_many": _l("Too many levels."),
    "invalid_colour": _l("Use a colour like #e8590c."),
    "unknown_curve": _l("Choose a curve."),
    "tier_in_use": _l("A tier that learners hold cannot be removed (tiers never go down)."),
}


def message(code: str) -> str:
    """The message of a validation error ``code``, in the reader's language (unknown codes readable as is)."""
    known = MESSAGES.get(code)
    return str(known) if known is not None else code.replace("_", " ").capitalize() + "."


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
            loose.append(f"{name or fallback or gettext('document')}: {message(code)}")
    return loose


def _pairs(choices: dict) -> list[SelectChoice]:
    """``value → label`` (lazily translated labels) as WTForms choices."""
    return [SelectChoice(value, label) for value, label in choices.items()]


def _optional_int(label: str, **kw) -> IntegerField:
    return IntegerField(label, validators=[Optional()], **kw)


class RuleForm(FlaskForm):
    """Every §4.2 field of a point rule."""

    activity_type = StringField(_l("Activity type (key)"), validators=[Length(max=64)])
    label = StringField(_l("Label"), validators=[InputRequired(message=_l("Give the rule a label.")), Length(max=120)])
    category = SelectField(_l("Category"), choices=_pairs({
        "": _l("None"), **{c: CATEGORY_LABELS.get(c, c.capitalize()) for c in CATEGORIES}}))
    base_points = IntegerField(_l("Base points"), validators=[InputRequired(message=NUMBER)])
    difficulty_points = StringField(_l("Points by difficulty (name=points, comma-separated; optional)"),
                                    validators=[Length(max=500)])
    perfect_bonus_percent = _optional_int(_l("Perfect-score bonus (%)"))
    max_per_day = _optional_int(_l("Cap per day (learner's local day; empty = none)"))
    max_per_week = _optional_int(_l("Cap per week (ISO week; empty = none)"))
    max_ever = _optional_int(_l("Cap ever (empty = none)"))
    enabled = BooleanField(_l("Enabled"))
    allow_custom_points = BooleanField(_l("Callers may pass a custom amount"))
    min_points = _optional_int(_l("Custom amount: minimum"))
    max_points = _optional_int(_l("Custom amount: maximum"))
    allow_negative = BooleanField(_l("Negative amounts allowed (admin adjustments)"))
    requires_description = BooleanField(_l("A description (reason) is required"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])

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

    key = StringField(_l("Key"), validators=[Length(max=32)])
    name = StringField(_l("Name"), validators=[Length(max=64)])
    threshold = IntegerField(_l("Threshold (points)"), validators=[Optional()])
    emoji = StringField(_l("Emoji"), validators=[Length(max=16)])
    colour = StringField(_l("Colour"), validators=[Length(max=16)])
    tagline = StringField(_l("Tagline"), validators=[Length(max=200)])


class LadderForm(FlaskForm):
    """The tier ladder, the level table (text), a curve generator and how promotions are announced."""

    tiers = FieldList(FormField(TierRowForm), min_entries=1)
    levels = TextAreaField(_l("Level thresholds (points for level 1, 2, 3…; comma- or line-separated)"),
                           validators=[Length(max=20000)])
    curve = SelectField(_l("Curve"), choices=_pairs({"linear": _l("Linear"), "increasing": _l("Increasing"),
                                          "snowballing": _l("Snowballing")}))
    curve_count = IntegerField(_l("Levels"), default=23, validators=[Optional(), NumberRange(min=2, max=200)])
    curve_base = IntegerField(_l("Base step (points)"), default=50, validators=[Optional(), NumberRange(min=1)])
    curve_coefficient = FloatField(_l("Coefficient"), default=0.2, validators=[Optional(), NumberRange(min=0)])
    announce = RadioField(_l("Promotions this change causes"), default="celebrate",
                          choices=_pairs({"celebrate": _l("Celebrate them (notification and celebration)"),
                                   "silent": _l("Apply them silently")}))

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
    key = StringField(_l("Key"), validators=[Length(max=64)])
    title = StringField(_l("Title"), validators=[InputRequired(message=_l("Give the goal a title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    kind = SelectField(_l("Kind"), choices=_pairs({
        "activity_count": _l("Count activities"), "streak_days": _l("Reach a streak"),
                                        "new_quiz_topics": _l("Quizzes on new topics")}))
    activity_types = SelectMultipleField(_l("Activity types that count"), choices=_pairs({}), validate_choice=False)
    target = IntegerField(_l("Target"), validators=[InputRequired(message=NUMBER)])
    reward = IntegerField(_l("Reward (points)"), validators=[InputRequired(message=NUMBER)])
    position = IntegerField(_l("Position in the list"), default=0, validators=[Optional()])
    enabled = BooleanField(_l("Enabled"), default=True)


class ImportConfigForm(FlaskForm):
    file = FileField(_l("Configuration file (.json)"), validators=[FileAllowed(["json"], _l("Upload a .json file."))])
    document = TextAreaField(_l("…or paste the JSON document"), validators=[Length(max=2 * 1024 * 1024)])
    celebrate = BooleanField(_l("Celebrate promotions a new ladder causes"))


class NoteForm(FlaskForm):
    note = StringField(_l("Note (kept in the moderation history; not shown to the learner)"),
                       validators=[Length(max=500)])
