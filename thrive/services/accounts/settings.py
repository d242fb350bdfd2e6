"""A learner's own settings: profile, privacy switches and notification preferences (§7, §8.4, §9).

:func:`update_settings` validates everything before writing anything and
writes it in one transaction, so a rejected form never half-saves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from thrive.db import write_transaction
from thrive.models import Learner
from thrive.models.community import NOTIFICATION_TYPES
from thrive.services.accounts.learners import clean_topics, set_topics
from thrive.services.accounts.names import clean_display_name
from thrive.services.errors import UnknownLearner, ValidationError
from thrive.timeutil import is_valid_timezone

#: What each §9 notification type means, as the settings page labels it.
NOTIFICATION_LABELS: dict[str, str] = {
    "tier_up": "Reaching a new tier",
    "level_up": "Reaching a new level",
    "weekly_goal_completed": "Completing a weekly goal",
    "circle_goal_completed": "Your Thrive Circle reaching its shared goal",
    "streak_milestone": "Streak milestones (7, 30 and 100 days)",
    "streak_at_risk": "A reminder when your streak is at risk",
    "grace_day_used": "A grace day covering a missed day",
    "new_follower": "Someone new follows you",
    "side_quest_available": "A new side quest is available",
    "circle_assigned": "Your Thrive Circle for the new week",
    "weekly_recap": "Your personal weekly recap",
    "points_adjusted": "A message from Thrive staff about your points",
    "side_quest_completed": "Completing a side quest",
    "achievement_earned": "Earning an achievement",
}


class SettingsError(ValidationError):
    """A rejected settings field; ``field`` names it (``display_name``, ``timezone``, ``topics``, ``notifications``)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message, code=f"invalid_{field_name}")
        self.field = field_name


@dataclass(frozen=True)
class Settings:
    """The editable settings of one learner.

    ``topics`` are topic names (cleaned by :func:`thrive.services.accounts.learners.clean_topics`);
    ``notification_prefs`` maps every §9 type to on/off.
    """

    display_name: str
    timezone: str
    topics: list[str]
    share_activities: bool
    share_tier_upgrades: bool
    share_profile: bool
    notification_prefs: dict[str, bool] = field(default_factory=dict)


def current_settings(learner: Learner) -> Settings:
    """The learner's settings as stored (a missing preference counts as on)."""
    prefs = learner.notification_prefs or {}
    return Settings(
        display_name=learner.display_name, timezone=learner.timezone, topics=list(learner.topics),
        share_activities=learner.share_activities, share_tier_upgrades=learner.share_tier_upgrades,
        share_profile=learner.share_profile,
        notification_prefs={t: bool(prefs.get(t, True)) for t in NOTIFICATION_TYPES},
    )


def parse_topics(text: str | None) -> list[str]:
    """Topics from a comma-separated string; raises :class:`SettingsError` (field ``topics``)."""
    try:
        return clean_topics((text or "").split(","))
    except ValidationError as exc:
        raise SettingsError("topics", exc.message) from None


def validate(settings: Settings) -> Settings:
    """Return ``settings`` cleaned (display name stripped, topics normalised) or raise :class:`SettingsError`."""
    try:
        name = clean_display_name(settings.display_name or "")
    except ValidationError as exc:
        raise SettingsError("display_name", exc.message[:1].upper() + exc.message[1:] + ".") from None
    if not is_valid_timezone(settings.timezone or ""):
        raise SettingsError("timezone", "Choose a time zone from the list.")
    try:
        topics = clean_topics(settings.topics)
    except ValidationError as exc:
        raise SettingsError("topics", exc.message) from None
    unknown = set(settings.notification_prefs) - set(NOTIFICATION_TYPES)
    if unknown:
        raise SettingsError("notifications", f"Unknown notification type: {sorted(unknown)[0]}.")
    prefs = {t: bool(settings.notification_prefs.get(t, True)) for t in NOTIFICATION_TYPES}
    return Settings(display_name=name, timezone=settings.timezone, topics=topics,
                    share_activities=bool(settings.share_activities),
                    share_tier_upgrades=bool(settings.share_tier_upgrades),
                    share_profile=bool(settings.share_profile), notification_prefs=prefs)


def update_settings(learner_id: int, settings: Settings) -> Settings:
    """Validate and save all of ``settings`` for the learner in one transaction; return what was saved.

    Raises :class:`SettingsError` (nothing written) or ``UnknownLearner``.
    The new ``notification_prefs`` are honoured by ``notifications.notify``
    from the next award on (§9).
    """
    clean = validate(settings)
    with write_transaction() as session:
        learner = session.get(Learner, learner_id)
        if learner is None:
            raise UnknownLearner(f"no learner with id {learner_id}")
        learner.display_name = clean.display_name
        learner.timezone = clean.timezone
        set_topics(learner, clean.topics)
        learner.share_activities = clean.share_activities
        learner.share_tier_upgrades = clean.share_tier_upgrades
        learner.share_profile = clean.share_profile
        learner.notification_prefs = dict(clean.notification_prefs)  # a new dict: JSON change is detected
    return clean
