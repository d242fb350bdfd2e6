"""Streak arithmetic with grace days (§5.3), shared by award(), verify and the streak job.

State is ``StreakState(current, longest, through, grace)``: ``through`` is the
last local date the streak is valid through (an active day, or a missed day
covered by a grace day). All functions are pure.

Rules:
- an award on ``through + 1`` extends the streak by one day;
- every time the streak reaches a multiple of 7 days, one grace day is banked
  (at most :data:`MAX_GRACE_DAYS`);
- missed days are covered one by one by banked grace days; a missed day that
  cannot be covered breaks the streak: current and banked grace drop to 0.
Covering missed days in a batch (at the next award) or one by one (the nightly
streak job) gives the same result. So the streak is a pure function of the
learner's set of active local dates (folded in date order, :func:`streak_from_days`)
and of today (:func:`settle`), whatever order awards arrive in and whenever
the job ran — which is what lets ``verify`` recompute it from the ledger alone.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

MAX_GRACE_DAYS = 2
GRACE_EVERY_DAYS = 7
MILESTONES = (7, 30, 100)


@dataclass(frozen=True)
class StreakState:
    current: int = 0
    longest: int = 0
    through: date | None = None
    grace: int = 0


def record_active_day(state: StreakState, day: date) -> StreakState:
    """Return the state after an award counted on local date ``day``.

    Days at or before ``through`` change nothing (already counted or covered).
    """
    if state.current == 0 or state.through is None:
        current, grace = 1, 0
    elif day <= state.through:
        return state
    else:
        missed = (day - state.through).days - 1
        if missed == 0:
            current, grace = state.current + 1, state.grace
        elif missed <= state.grace:
            current, grace = state.current + 1, state.grace - missed
        else:
            current, grace = 1, 0
    if current % GRACE_EVERY_DAYS == 0:
        grace = min(MAX_GRACE_DAYS, grace + 1)
    return StreakState(current, max(state.longest, current), day, grace)


def streak_from_days(days: Iterable[date]) -> StreakState:
    """The (unsettled) streak state after the active local dates ``days``, in date order."""
    state = StreakState()
    for day in sorted(set(days)):
        state = record_active_day(state, day)
    return state


def needs_recompute(state: StreakState, last_active: date | None, day: date) -> bool:
    """True when an award on ``day`` arrives out of order and the streak must be refolded.

    Awards on a new latest day (after ``through``) or on the last active day fold
    incrementally; a day at or before ``through`` that was not active (a day
    covered by a grace day or reset by the streak job, or older history) changes
    the past, so the streak is refolded from all active dates.
    """
    if state.through is None or day > state.through:
        return False
    return day != last_active


def settle(state: StreakState, today: date) -> tuple[StreakState, int]:
    """Apply the days missed before ``today`` (local date); return (state, grace days used).

    Today itself is never missed — it is not over yet. Used by pages (so they
    never show a stale streak), by the streak job (to persist it) and by verify.
    """
    if state.current == 0 or state.through is None:
        return state, 0
    missed = (today - state.through).days - 1
    if missed <= 0:
        return state, 0
    if missed <= state.grace:
        return replace(state, through=today - timedelta(days=1), grace=state.grace - missed), missed
    return replace(state, current=0, grace=0), 0


def reached_milestone(before: StreakState, after: StreakState) -> int | None:
    """The milestone (7, 30 or 100 days) that ``after`` just reached, if any."""
    if after.current != before.current and after.current in MILESTONES:
        return after.current
    return None
