"""Reading a learner's progression for pages and the API (§5, §7, §13)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from thrive.models import LearnerState
from thrive.services.points.registry import Registry, TierSnapshot, load_registry
from thrive.services.progression.streaks import StreakState, settle
from thrive.timeutil import as_utc, local_date, platform_week, utcnow


@dataclass(frozen=True)
class TierProgress:
    """The learner's tier and the way to the next one (points to go, percent 0–100)."""

    tier: TierSnapshot
    next_tier: TierSnapshot | None
    points_to_next: int
    percent: int


@dataclass(frozen=True)
class LevelProgress:
    level: int
    next_level_at: int
    points_to_next: int
    percent: int


@dataclass(frozen=True)
class Status:
    """A learner's own progression, as pages and ``GET /api/v1/users/<id>`` show it."""

    total_points: int
    weekly_points: int
    tier: TierProgress
    level: LevelProgress
    current_streak: int
    longest_streak: int
    grace_days: int
    last_active_date: date | None
    quizzes_completed: int
    projects_created: int
    comments_posted: int
    side_quests_completed: int


def weekly_points(state: LearnerState, now: datetime | None = None) -> int:
    """Points in the current platform ISO week (0 when the stored week is over)."""
    week = platform_week(as_utc(now) if now else utcnow())
    return state.weekly_points if state.weekly_week == week else 0


def effective_streak(state: LearnerState, today: date) -> StreakState:
    """The streak as of local date ``today`` (missed days applied), never stale (§5.3)."""
    settled, _used = settle(
        StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days), today
    )
    return settled


def tier_progress(registry: Registry, tier_key: str, total: int) -> TierProgress:
    """Progress from the learner's (never-decreasing) tier toward the next (§5.1)."""
    tier = registry.tier(tier_key)
    nxt = registry.next_tier(tier.key)
    if nxt is None:
        return TierProgress(tier, None, 0, 100)
    span = max(nxt.threshold - tier.threshold, 1)
    done = min(max(total - tier.threshold, 0), span)
    return TierProgress(tier, nxt, max(nxt.threshold - total, 0), int(done * 100 / span))


def level_progress(registry: Registry, level: int, total: int) -> LevelProgress:
    """Progress within the current level toward the next (§5.2)."""
    start, end = registry.level_threshold(level), registry.level_threshold(level + 1)
    span = max(end - start, 1)
    done = min(max(total - start, 0), span)
    return LevelProgress(level, end, max(end - total, 0), int(done * 100 / span))


def status_for(state: LearnerState, timezone_name: str, now: datetime | None = None) -> Status:
    """Build the :class:`Status` of one learner at ``now`` (UTC instant)."""
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    streak = effective_streak(state, local_date(now, timezone_name))
    return Status(
        total_points=state.total_points,
        weekly_points=weekly_points(state, now),
        tier=tier_progress(registry, state.tier_key, state.total_points),
        level=level_progress(registry, state.level, state.total_points),
        current_streak=streak.current,
        longest_streak=max(state.longest_streak, streak.longest),
        grace_days=streak.grace,
        last_active_date=state.last_active_date,
        quizzes_completed=state.quizzes_completed,
        projects_created=state.projects_created,
        comments_posted=state.comments_posted,
        side_quests_completed=state.side_quests_completed,
    )
