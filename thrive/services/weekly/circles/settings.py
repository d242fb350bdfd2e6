"""Circle configuration (§6.1): sizes, eligibility, goal per member and goal bonus."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from flask import current_app

from thrive.services.errors import ValidationError

log = logging.getLogger(__name__)

#: Activity type of the circle goal bonus (a default point rule, §4.2).
GOAL_ACTIVITY = "circle_goal_completed"
#: Default bonus (points) for each contributing member when a circle reaches its goal.
DEFAULT_GOAL_BONUS = 50
#: A circle has room for a mid-week joiner while it has fewer than this many × target members.
ROOM_FACTOR = 2

_PENDING_KEY = "thrive.circles.pending_goals"
#: PostgreSQL ``work_mem`` for the bulk assignment transaction (sorts of ~1M rows stay in memory).
BULK_WORK_MEM = "128MB"


def assigned_dedupe_key(learner_id: int, week: str) -> str:
    """Dedupe key of a learner's ``circle_assigned`` notification for ``week``.

    The id is zero-padded so that the bulk insert, ordered by learner id, also
    fills the unique dedupe-key index in ascending order.
    """
    return f"circle_assigned:{week}:{learner_id:010d}"


# --------------------------------------------------------------- settings ---

@dataclass(frozen=True)
class CircleSettings:
    """Circle configuration (§6.1), read from the app config.

    ``target_size``/``min_size`` in learners; ``eligibility_days`` in days;
    ``goal_per_member`` and ``goal_bonus`` in points.
    """

    target_size: int
    min_size: int
    eligibility_days: int
    goal_per_member: int
    goal_bonus: int


def circle_settings() -> CircleSettings:
    """The current :class:`CircleSettings`.

    Reads ``THRIVE_CIRCLE_TARGET_SIZE`` (25), ``THRIVE_CIRCLE_MIN_SIZE`` (15),
    ``THRIVE_CIRCLE_ELIGIBILITY_DAYS`` (28), ``THRIVE_CIRCLE_GOAL_PER_MEMBER``
    (100) and ``THRIVE_CIRCLE_GOAL_BONUS`` (50; app config, else the
    environment). Raises ``ValidationError`` (code ``invalid_config``) unless
    1 ≤ min ≤ target, eligibility ≥ 1 day, goal per member ≥ 0 and
    1 ≤ bonus ≤ 1000 (the ``circle_goal_completed`` rule's custom range).
    """
    cfg = current_app.config
    bonus = cfg.get("THRIVE_CIRCLE_GOAL_BONUS") or os.environ.get("THRIVE_CIRCLE_GOAL_BONUS") or DEFAULT_GOAL_BONUS
    try:
        s = CircleSettings(
            target_size=int(cfg.get("THRIVE_CIRCLE_TARGET_SIZE", 25)),
            min_size=int(cfg.get("THRIVE_CIRCLE_MIN_SIZE", 15)),
            eligibility_days=int(cfg.get("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28)),
            goal_per_member=int(cfg.get("THRIVE_CIRCLE_GOAL_PER_MEMBER", 100)),
            goal_bonus=int(bonus),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"circle settings must be integers: {exc}", code="invalid_config") from exc
    if not 1 <= s.min_size <= s.target_size:
        raise ValidationError("THRIVE_CIRCLE_MIN_SIZE must be between 1 and THRIVE_CIRCLE_TARGET_SIZE",
                              code="invalid_config")
    if s.eligibility_days < 1 or s.goal_per_member < 0 or not 1 <= s.goal_bonus <= 1000:
        raise ValidationError("circle eligibility days must be ≥ 1, goal per member ≥ 0 and the goal bonus "
                              "between 1 and 1000 points", code="invalid_config")
    return s



def goal_bonus_or_default() -> int:
    """The configured goal bonus (points), or the default when the settings are invalid."""
    try:
        return circle_settings().goal_bonus
    except ValidationError:
        return DEFAULT_GOAL_BONUS
