"""Pure streak arithmetic with grace days (§5.3)."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from thrive.services.progression.streaks import StreakState, reached_milestone, record_active_day, settle

D0 = date(2026, 3, 1)


def run(days: list[int]) -> StreakState:
    state = StreakState()
    for d in days:
        state = record_active_day(state, D0 + timedelta(days=d))
    return state


def test_consecutive_days_and_grace_banking():
    assert run(list(range(7))) == StreakState(7, 7, D0 + timedelta(days=6), 1)
    assert run(list(range(14))).grace == 2
    assert run(list(range(21))).grace == 2  # at most two banked


def test_grace_covers_exactly_one_missed_day():
    state = run(list(range(7)) + [8])
    assert (state.current, state.grace) == (8, 0)
    broken = run(list(range(7)) + [9])  # two missed days, one grace day
    assert (broken.current, broken.grace, broken.longest) == (1, 0, 7)


def test_settle_applies_missed_days_but_never_today():
    state = run([0, 1, 2])
    assert settle(state, D0 + timedelta(days=3)) == (state, 0)  # today not over yet
    assert settle(state, D0 + timedelta(days=4))[0].current == 0
    graced = run(list(range(7)))
    settled, used = settle(graced, D0 + timedelta(days=8))
    assert (settled.current, settled.grace, used, settled.through) == (7, 0, 1, D0 + timedelta(days=7))


def test_milestones():
    before, after = run(list(range(6))), run(list(range(7)))
    assert reached_milestone(before, after) == 7
    assert reached_milestone(after, after) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=40), st.integers(0, 70))
def test_settling_day_by_day_equals_settling_at_once(offsets, extra):
    """The nightly job (one day at a time) and a later award/verify (all at once) agree."""
    days = sorted(set(offsets))
    state = run(days)
    today = D0 + timedelta(days=days[-1] + extra)
    at_once, _ = settle(state, today)
    stepwise = state
    for k in range(days[-1] + 1, days[-1] + extra + 1):
        stepwise, _ = settle(stepwise, D0 + timedelta(days=k))
    assert at_once.current == stepwise.current and at_once.grace == stepwise.grace
    # and an award after the gap gives the same streak either way
    nxt = today
    assert record_active_day(at_once, nxt).current == record_active_day(stepwise, nxt).current
