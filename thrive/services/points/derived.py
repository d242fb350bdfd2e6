"""Pricing an award and folding it into derived state (§4.2, §5): shared by ``award()`` and ``verify``."""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from thrive.models import LearnerState
from thrive.services.errors import PointsOutOfRange
from thrive.services.points.registry import Registry, RuleSnapshot
from thrive.services.progression.streaks import StreakState, needs_recompute, record_active_day, streak_from_days
from thrive.timeutil import as_utc

#: activity type → LearnerState lifetime counter (§5.4)
LIFETIME_COUNTERS = {
    "quiz_completed": "quizzes_completed",
    "project_created": "projects_created",
    "comment_posted": "comments_posted",
    "side_quest_completed": "side_quests_completed",
}


def compute_points(rule: RuleSnapshot, metadata: dict | None, points: int | None) -> int:
    """The amount an award is worth before caps (§4.2).

    A caller-given ``points`` must be allowed by the rule and within its
    bounds (``PointsOutOfRange`` otherwise). Without it: ``base_points``, or the
    ``difficulty_points`` entry for ``metadata["difficulty"]``, plus
    ``perfect_bonus_percent`` (rounded half up) for a perfect score
    (``metadata["score"] == 100`` or ``metadata["perfect"]`` true).
    """
    if points is not None:
        if not rule.allow_custom_points:
            raise PointsOutOfRange(f"{rule.activity_type} does not accept a custom amount of points")
        if points < 0 and not rule.allow_negative:
            raise PointsOutOfRange(f"{rule.activity_type} does not accept negative points")
        low = rule.min_points if rule.min_points is not None else (-math.inf if rule.allow_negative else 0)
        high = rule.max_points if rule.max_points is not None else math.inf
        if not low <= points <= high:
            raise PointsOutOfRange(f"points for {rule.activity_type} must be between {low} and {high}")
        return points
    meta = metadata or {}
    amount = rule.base_points
    difficulty = meta.get("difficulty")
    if rule.difficulty_points and isinstance(difficulty, str) and difficulty in rule.difficulty_points:
        amount = int(rule.difficulty_points[difficulty])
    score = meta.get("score")
    perfect = meta.get("perfect") is True or (
        isinstance(score, (int, float)) and not isinstance(score, bool) and score == 100
    )
    if perfect and rule.perfect_bonus_percent:
        amount = (amount * (100 + rule.perfect_bonus_percent) + 50) // 100
    return amount


def counts_for_streak(category: str | None, points: int) -> bool:
    """Whether a ledger entry makes its local day active for the streak (§5.3).

    Any award of points for taking part; not bonuses the system hands out for
    consistency (streak bonus, goals) and not admin adjustments.
    """
    return points > 0 and category is not None and category != "consistency"


def apply_entry_to_state(state: LearnerState, registry: Registry, *, activity_type: str, category: str | None,
                         points: int, local_day, week: str, occurred_at: datetime,
                         active_days: Callable[[], list] | None = None) -> tuple[list[str], list[int]]:
    """Fold one ledger entry into derived state; return (tiers gained, levels gained).

    Shared by ``award()`` and ``verify`` (§4.4) so both compute state the same way.
    ``active_days()`` returns the learner's streak-active local dates so far; it is
    called only when an award lands out of order and the streak must be refolded
    (see ``streaks.needs_recompute``).
    """
    state.total_points += points
    if state.weekly_week is None or week > state.weekly_week:
        state.weekly_week, state.weekly_points = week, points
    elif week == state.weekly_week:
        state.weekly_points += points
    state.peak_points = max(state.peak_points, state.total_points)

    tiers_gained: list[str] = []
    reached = registry.tier_for_points(state.total_points)
    old_index = registry.tier_index(state.tier_key)
    new_index = registry.tier_index(reached.key)
    if new_index > old_index:
        tiers_gained = [t.key for t in registry.tiers[max(old_index, 0) + 1: new_index + 1]]
        state.tier_key = reached.key
    levels_gained: list[int] = []
    new_level = registry.level_for_points(state.total_points)
    if new_level > state.level:
        levels_gained = list(range(state.level + 1, new_level + 1))
        state.level = new_level

    if counts_for_streak(category, points):
        before = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)
        if active_days is not None and needs_recompute(before, state.last_active_date, local_day):
            streak = streak_from_days([*active_days(), local_day])
        else:
            streak = record_active_day(before, local_day)
        state.current_streak, state.longest_streak = streak.current, streak.longest
        state.streak_through, state.grace_days = streak.through, streak.grace
        if state.last_active_date is None or local_day > state.last_active_date:
            state.last_active_date = local_day
    if points > 0 and (state.last_award_at is None or as_utc(state.last_award_at) < occurred_at):
        state.last_award_at = occurred_at
    counter = LIFETIME_COUNTERS.get(activity_type)
    if counter:
        setattr(state, counter, getattr(state, counter) + 1)
    return tiers_gained, levels_gained
