"""Stored keys of the admin area as the staff member reads them, in their language (§11, issue 11).

Statuses, kinds and counters are stored as English keys (data, also used in
CSV files and the audit log, which stay as stored); pages show them through
these labels. Unknown keys are shown as stored, underscores as spaces.
Registered as the ``admin_label`` Jinja filter: ``{{ q.status | admin_label }}``.
"""
from __future__ import annotations

from babel.dates import format_datetime
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l

from thrive.timeutil import as_utc, zone
from thrive.web.i18n import reader_timezone_name

from . import bp

LABELS = {
    # quest, achievement and API key statuses
    "draft": _l("draft"), "published": _l("published"), "retired": _l("retired"), "active": _l("active"),
    # job runs
    "succeeded": _l("succeeded"), "failed": _l("failed"), "skipped": _l("skipped"), "running": _l("running"),
    "already_succeeded": _l("already succeeded"), "locked": _l("locked"),
    # staff roles
    "admin": _l("admin"), "moderator": _l("moderator"),
    # quest repeats
    "once": _l("once"), "weekly": _l("every week"),
    # goal template kinds
    "activity_count": _l("count activities"), "streak_days": _l("reach a streak"),
    "new_quiz_topics": _l("quizzes on new topics"),
    # achievement criteria and counters
    "counter": _l("counter"), "streak": _l("streak"), "tier": _l("tier"), "level": _l("level"),
    "points": _l("points"), "quests": _l("side quests"), "circle_goals": _l("circle goals"),
    "quizzes_completed": _l("quizzes completed"), "projects_created": _l("projects created"),
    "comments_posted": _l("comments posted"), "side_quests_completed": _l("side quests completed"),
    # configuration import
    "add": _l("add"), "remove": _l("remove"), "change": _l("change"),
    "rules": _l("rules"), "tiers": _l("tiers"), "levels": _l("levels"), "goal_templates": _l("goal templates"),
    # moderation actions
    "hide": _l("hide"), "unhide": _l("unhide"), "dismiss": _l("dismiss"), "hide_all": _l("hide all"),
}


def status_label(key: str | None) -> str:
    """The label of a stored key ("published" → "publicada" in Spanish); unknown keys as stored, "_" → " "."""
    if key is None:
        return ""
    label = LABELS.get(key)
    return str(label) if label is not None else str(key).replace("_", " ")


bp.app_template_filter("admin_label")(status_label)


@bp.app_template_filter("number_fixed")
def number_fixed(value, decimals: int = 0) -> str:
    """A number with exactly ``decimals`` decimals in the reader's locale ("1,234.5" / "1234,5")."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern)


@bp.app_template_filter("percent")
def percent(value) -> str:
    """A share (0.42) as a whole percentage in the reader's locale ("42%" / "42 %")."""
    return format_percent(value)


#: Scheduled jobs (thrive/jobs.py) by name, as the admin reads them; unknown jobs keep their registry title.
JOB_TITLES = {
    "assign_circles": _l("Thrive Circle assignment"), "create_goals": _l("Weekly goal creation"),
    "streaks": _l("Streaks (bonuses, grace days, at-risk reminders)"),
    "weekly_recap": _l("Weekly recap notifications"), "admin_dashboard": _l("Admin dashboard figures"),
}


@bp.app_template_filter("job_title")
def job_title(name: str, fallback: str | None = None) -> str:
    """A job's title in the reader's language (``fallback``, the registry's English title, for unknown jobs)."""
    title = JOB_TITLES.get(name)
    return str(title) if title is not None else (fallback or name)


@bp.app_template_filter("local_datetime")
def local_datetime(value) -> str:
    """A UTC instant in the staff member's time zone and language, Babel's medium format
    ("Dec 2, 2026, 10:15:00 AM" / "2 dic 2026, 10:15:00"); "" for None."""
    if value is None:
        return ""
    return format_datetime(as_utc(value), "medium", tzinfo=zone(reader_timezone_name()), locale=get_locale())


#: Service error codes (:class:`thrive.services.errors.ThriveError`) as the staff member reads them.
ERRORS = {
    "key_taken": _l("This key is already used."),
    "invalid_key": _l("Use 2–64 lowercase letters, digits, '-' or '_'."),
    "invalid_window": _l("The window must end after it starts."),
    "invalid_prerequisite": _l("That prerequisite would make a cycle or does not exist."),
    "unknown_activity_type": _l("Unknown activity type."),
    "self_deactivation": _l("You cannot deactivate your own account."),
    "self_erasure": _l("You cannot erase your own account here; use your settings."),
    "confirmation_mismatch": _l("Type the learner's username exactly to confirm."),
    "unknown_user": _l("No such learner (or the account was erased)."),
    "self_demotion": _l("You cannot remove your own admin role."),
    "invalid_staff_role": _l("Unknown staff role."),
    "not_held": _l("That learner does not hold this badge."),
    "invalid_target": _l("That feed item does not exist."),
}


def error_message(exc) -> str:
    """A service error in the reader's language: known codes translated, else the service's own sentence."""
    known = ERRORS.get(getattr(exc, "code", None))
    if known is not None:
        return str(known)
    text = str(getattr(exc, "message", exc))
    return text[:1].upper() + text[1:]
