"""Recompute derived state from the ledger and report or repair drift (§4.4, ``flask thrive verify``)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import func, select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry, ProgressionEvent
from thrive.services.points.award import apply_entry_to_state, counts_for_streak
from thrive.services.points.registry import Registry, load_registry
from thrive.services.progression.state import effective_streak, weekly_points
from thrive.services.progression.streaks import streak_from_days
from thrive.timeutil import as_utc, local_date, utcnow

COMPARED = (
    "total_points", "weekly_points", "peak_points", "tier_key", "level", "current_streak", "longest_streak",
    "grace_days", "last_active_date", "last_award_at", "quizzes_completed", "projects_created",
    "comments_posted", "side_quests_completed",
)


@dataclass(frozen=True)
class Drift:
    """One field of one learner whose stored value differs from the ledger's."""

    learner_id: int
    username: str
    field: str
    stored: object
    expected: object


def _blank_state() -> SimpleNamespace:
    return SimpleNamespace(
        total_points=0, weekly_points=0, weekly_week=None, peak_points=0, tier_key=None, level=1,
        current_streak=0, longest_streak=0, streak_through=None, grace_days=0, last_active_date=None,
        last_award_at=None, quizzes_completed=0, projects_created=0, comments_posted=0, side_quests_completed=0,
    )


def _replay(registry: Registry) -> Iterator[tuple[int, SimpleNamespace]]:
    q = (
        select(LedgerEntry.learner_id, LedgerEntry.activity_type, LedgerEntry.category, LedgerEntry.points,
               LedgerEntry.local_date, LedgerEntry.week, LedgerEntry.occurred_at)
        .order_by(LedgerEntry.learner_id, LedgerEntry.id)
        .execution_options(yield_per=5000)
    )
    current_id, state = None, None
    for learner_id, activity_type, category, points, day, week, occurred_at in db.session.execute(q):
        if learner_id != current_id:
            if state is not None:
                yield current_id, _with_streak_from_days(state)
            current_id, state = learner_id, _blank_state()
            state.active_days = set()
            state.tier_key = registry.tiers[0].key
        apply_entry_to_state(state, registry, activity_type=activity_type, category=category, points=points,
                             local_day=day, week=week, occurred_at=as_utc(occurred_at))
        if counts_for_streak(category, points):
            state.active_days.add(day)
    if state is not None:
        yield current_id, _with_streak_from_days(state)


def _with_streak_from_days(state: SimpleNamespace) -> SimpleNamespace:
    """The streak is a function of the set of active dates (``streaks.streak_from_days``), not of arrival order."""
    streak = streak_from_days(state.active_days)
    state.current_streak, state.longest_streak = streak.current, streak.longest
    state.streak_through, state.grace_days = streak.through, streak.grace
    del state.active_days
    return state


def _view(state, registry: Registry, tz_name: str, now: datetime, highest: dict) -> dict:
    streak = effective_streak(state, local_date(now, tz_name))
    tier_key, level = state.tier_key, state.level
    return {
        "total_points": state.total_points,
        "weekly_points": weekly_points(state, now),
        "peak_points": state.peak_points,
        "tier_key": tier_key,
        "level": level,
        "current_streak": streak.current,
        "longest_streak": state.longest_streak,
        "grace_days": streak.grace,
        "last_active_date": state.last_active_date,
        "last_award_at": as_utc(state.last_award_at) if state.last_award_at else None,
        "quizzes_completed": state.quizzes_completed,
        "projects_created": state.projects_created,
        "comments_posted": state.comments_posted,
        "side_quests_completed": state.side_quests_completed,
    }


def _highest_recorded() -> dict[int, dict[str, object]]:
    """Per learner, the highest tier and level ever recorded as progression events."""
    out: dict[int, dict[str, object]] = {}
    q = select(ProgressionEvent.learner_id, ProgressionEvent.kind, ProgressionEvent.to_value)
    for learner_id, kind, value in db.session.execute(q):
        out.setdefault(learner_id, {}).setdefault(kind, []).append(value)
    return out


def verify(fix: bool = False, now: datetime | None = None) -> list[Drift]:
    """Compare every learner's stored state with a replay of their ledger.

    The replay folds entries in the order they were written, exactly as
    ``award()`` did; tiers and levels are also held at the highest ever
    recorded (they never drop, even after a ladder edit). Streaks and weekly
    points are compared as of ``now`` (UTC instant). With ``fix`` the stored
    rows are overwritten with the replayed values in one transaction.
    Returns the drift found (before fixing).
    """
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    expected_by_id = dict(_replay(registry))
    recorded = _highest_recorded()
    drifts: list[Drift] = []
    repairs: dict[int, SimpleNamespace] = {}
    rows = db.session.execute(
        select(LearnerState, Learner.username, Learner.timezone).join(Learner, Learner.id == LearnerState.learner_id)
    ).all()
    for state, username, tz_name in rows:
        expected = expected_by_id.get(state.learner_id) or _blank_state()
        if expected.tier_key is None:
            expected.tier_key = registry.tiers[0].key
        marks = recorded.get(state.learner_id, {})
        for key in marks.get("tier_up", []):
            if registry.tier_index(key) > registry.tier_index(expected.tier_key):
                expected.tier_key = key
        for value in marks.get("level_up", []):
            expected.level = max(expected.level, int(value))
        stored_view = _view(state, registry, tz_name, now, marks)
        expected_view = _view(expected, registry, tz_name, now, marks)
        found = [
            Drift(state.learner_id, username, name, stored_view[name], expected_view[name])
            for name in COMPARED
            if stored_view[name] != expected_view[name]
        ]
        if found:
            drifts.extend(found)
            repairs[state.learner_id] = expected
    db.session.commit()
    if fix and repairs:
        with write_transaction() as session:
            for learner_id, expected in repairs.items():
                state = session.get(LearnerState, learner_id)
                for name in vars(expected):
                    setattr(state, name, getattr(expected, name))
    return drifts


def ledger_total() -> int:
    """Sum of all ledger points (for reports)."""
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))) or 0
