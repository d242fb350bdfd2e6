"""The hourly streak job (§5.3, §6.3): bonuses, grace days, broken streaks, at-risk reminders, idempotency."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry, Notification
from thrive.services.points.award import award
from thrive.services.points.verify import verify
from thrive.services.progression.streak_job import bonus_instant, iter_hours, run_streaks
from thrive.timeutil import local_date

UTC = UTC


def local(d: date, hour: int, tz: str, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def give(learner_id: int, key: str, when: datetime, activity: str = "quiz_completed"):
    return award(learner_id, activity, event_key=key, occurred_at=when, now=when + timedelta(minutes=1))


def state(learner_id: int) -> LearnerState:
    db.session.expire_all()
    return db.session.get(LearnerState, learner_id)


def bonuses(learner_id: int) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type == "streak_bonus").order_by(
        LedgerEntry.local_date)))


def notes(learner_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.learner_id == learner_id, Notification.type == kind).order_by(Notification.id)))


def total_rows() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LedgerEntry)),
            db.session.scalar(select(func.count()).select_from(Notification)))


def simulate(learner_ids: int | list[int], tz: str, days: list[date], start: datetime, end: datetime) -> None:
    """Award a quiz at local noon on each of ``days`` to each learner and run the job every hour, in time order."""
    ids = learner_ids if isinstance(learner_ids, list) else [learner_ids]
    events = sorted((local(d, 12, tz), d, learner_id) for d in days for learner_id in ids)
    for hour in iter_hours(start, end):
        while events and events[0][0] <= hour:
            when, d, learner_id = events.pop(0)
            give(learner_id, f"quiz:{learner_id}:{d}", when)
        run_streaks(hour)


@pytest.mark.parametrize("tz, first", [
    ("America/New_York", date(2026, 3, 6)),    # spring forward on Sunday 2026-03-08 (a 23-hour day)
    ("America/New_York", date(2026, 10, 30)),  # fall back on Sunday 2026-11-01 (a 25-hour day)
    ("Asia/Kolkata", date(2026, 3, 6)),        # UTC+05:30, local midnight at half past the UTC hour
    ("Pacific/Auckland", date(2026, 4, 3)),    # UTC+13 → +12 on 2026-04-05
])
def test_consecutive_local_days_across_dst_and_zones(app_ctx, make_learner, tz, first):
    learner = make_learner(timezone=tz)
    days = [first + timedelta(days=i) for i in range(5)]
    start = local(first, 0, tz) - timedelta(hours=2)
    end = local(days[-1] + timedelta(days=1), 3, tz)
    simulate(learner.id, tz, days, start, end)

    paid = bonuses(learner.id)
    assert [e.local_date for e in paid] == days
    assert [e.points for e in paid] == [5, 10, 15, 20, 25]
    for entry, d in zip(paid, days):
        at = entry.occurred_at.replace(tzinfo=UTC)
        assert at == bonus_instant(d, tz)
        assert local_date(at, tz) == d and local_date(at + timedelta(seconds=1), tz) == d + timedelta(days=1)
        assert entry.event_key == f"streak:{learner.id}:{d.isoformat()}"
    s = state(learner.id)
    assert (s.current_streak, s.longest_streak, s.streak_through) == (5, 5, days[-1])

    before = total_rows()
    for hour in iter_hours(start, end):          # the whole run again: nothing doubles
        counts = run_streaks(hour)
        assert counts["bonuses"] == 0 and counts["grace_days_used"] == 0 and counts["at_risk_reminders"] == 0
    assert total_rows() == before
    assert verify(now=end) == []


def test_a_rerun_of_the_same_hour_awards_nothing(app_ctx, make_learner):
    learners = [make_learner(timezone="Europe/Berlin") for _ in range(3)]
    for n in range(3):
        for i, learner in enumerate(learners):
            give(learner.id, f"q{i}-{n}", local(date(2026, 6, 1 + n), 10, "Europe/Berlin"))
    hour = local(date(2026, 6, 4), 0, "Europe/Berlin")
    first = run_streaks(hour)
    assert (first["bonuses"], first["bonus_points"]) == (6, 3 * (10 + 15))  # yesterday and the day before
    snapshot = total_rows()
    second = run_streaks(hour)
    assert (second["bonuses"], second["bonus_points"]) == (0, 0)
    assert total_rows() == snapshot
    assert run_streaks(hour + timedelta(hours=5))["bonuses"] == 0


def test_grace_day_covers_exactly_one_missed_day(app_ctx, make_learner):
    tz = "America/Chicago"
    kept, broken = make_learner(timezone=tz), make_learner(timezone=tz)
    d0 = date(2026, 5, 4)
    week = [d0 + timedelta(days=i) for i in range(7)]      # a 7-day streak banks one grace day
    simulate([kept.id, broken.id], tz, week, local(d0, 0, tz), local(week[-1], 23, tz))
    assert (state(kept.id).current_streak, state(kept.id).grace_days) == (7, 1)

    missed = week[-1] + timedelta(days=1)                  # both miss day 8
    counts = run_streaks(local(missed + timedelta(days=1), 0, tz, 30))
    assert counts["grace_days_used"] == 2
    for learner in (kept, broken):
        s = state(learner.id)
        assert (s.current_streak, s.grace_days, s.streak_through) == (7, 0, missed)
        [note] = notes(learner.id, "grace_day_used")
        assert note.dedupe_key == f"grace_day_used:{learner.id}:{missed.isoformat()}"
    assert verify(now=local(missed + timedelta(days=1), 1, tz)) == []

    give(kept.id, "kept-day9", local(missed + timedelta(days=1), 12, tz))
    assert state(kept.id).current_streak == 8              # the streak goes on
    counts = run_streaks(local(missed + timedelta(days=2), 0, tz, 30))
    assert counts["streaks_reset"] == 1 and counts["grace_days_used"] == 0
    s = state(broken.id)                                   # a second missed day: no grace left
    assert (s.current_streak, s.grace_days, s.longest_streak) == (0, 0, 7)
    assert len(notes(broken.id, "grace_day_used")) == 1
    assert [e.points for e in bonuses(kept.id)] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert verify(now=local(missed + timedelta(days=2), 1, tz)) == []

    give(broken.id, "broken-restart", local(missed + timedelta(days=3), 9, tz))
    assert state(broken.id).current_streak == 1
    assert verify(now=local(missed + timedelta(days=3), 10, tz)) == []


def test_scheduler_outage_still_pays_yesterday_and_the_day_before(app_ctx, make_learner):
    learner = make_learner(timezone="UTC")
    for n in range(4):
        give(learner.id, f"q{n}", datetime(2026, 7, 1 + n, 12, tzinfo=UTC))
    counts = run_streaks(datetime(2026, 7, 5, 6, tzinfo=UTC))   # first run after a long outage
    assert counts["bonuses"] == 2
    assert [(e.local_date, e.points) for e in bonuses(learner.id)] == [
        (date(2026, 7, 3), 15), (date(2026, 7, 4), 20)]
    assert verify(now=datetime(2026, 7, 5, 7, tzinfo=UTC)) == []


def test_bonus_is_capped_at_the_configured_days(app, app_ctx, make_learner):
    app.config.update(THRIVE_STREAK_BONUS_PER_DAY=6, THRIVE_STREAK_BONUS_MAX_DAYS=3)
    learner = make_learner()
    simulate(learner.id, "UTC", [date(2026, 8, 1) + timedelta(days=i) for i in range(5)],
             datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 6, 2, tzinfo=UTC))
    assert [e.points for e in bonuses(learner.id)] == [6, 12, 18, 18, 18]


def test_streak_at_risk_reminders_from_20_local(app_ctx, make_learner):
    tz = "Asia/Tokyo"
    at_risk, active_today, short, opted_out = (make_learner(timezone=tz) for _ in range(4))
    with_prefs = db.session.get(Learner, opted_out.id)
    with_prefs.notification_prefs = {"streak_at_risk": False}
    db.session.commit()
    d0 = date(2026, 9, 1)
    for learner, n in ((at_risk, 3), (active_today, 3), (short, 2), (opted_out, 4)):
        for i in range(n):
            give(learner.id, f"{learner.id}-{i}", local(d0 + timedelta(days=3 - n + i), 9, tz))
    today = d0 + timedelta(days=3)
    give(active_today.id, "today", local(today, 8, tz))
    assert run_streaks(local(today, 19, tz))["at_risk_reminders"] == 0
    counts = run_streaks(local(today, 20, tz))
    assert counts["at_risk_reminders"] == 1
    [note] = notes(at_risk.id, "streak_at_risk")
    assert "3-day streak" in note.title and note.dedupe_key == f"streak_at_risk:{at_risk.id}:{today}"
    assert run_streaks(local(today, 21, tz))["at_risk_reminders"] == 0
    assert run_streaks(local(today, 20, tz))["at_risk_reminders"] == 0
    for learner in (active_today, short, opted_out):
        assert notes(learner.id, "streak_at_risk") == []
    tomorrow = today + timedelta(days=1)                 # day over: grace-less streak of 3 is broken
    run_streaks(local(tomorrow, 20, tz))
    assert len(notes(at_risk.id, "streak_at_risk")) == 1


def test_streak_bonus_never_counts_as_activity(app_ctx, make_learner):
    learner = make_learner()
    give(learner.id, "q", datetime(2026, 2, 2, 12, tzinfo=UTC))
    run_streaks(datetime(2026, 2, 3, 0, tzinfo=UTC))
    [bonus] = bonuses(learner.id)
    assert bonus.category == "consistency"
    s = state(learner.id)
    assert (s.current_streak, s.last_active_date) == (1, date(2026, 2, 2))
    run_streaks(datetime(2026, 2, 4, 0, tzinfo=UTC))     # missed 02-03: broken, nothing else paid
    assert state(learner.id).current_streak == 0 and len(bonuses(learner.id)) == 1


def test_verify_cli_is_clean_after_streak_jobs(app, app_ctx, make_learner, runner):
    from thrive.timeutil import utcnow

    now = utcnow().replace(minute=0, second=0, microsecond=0)
    today = now.date()
    graced, broken = make_learner(), make_learner()
    for i in range(10, 1, -1):                            # 9 active days ending the day before yesterday
        give(graced.id, f"g{i}", datetime.combine(today - timedelta(days=i), time(12), tzinfo=UTC))
    for i in range(6, 3, -1):
        give(broken.id, f"b{i}", datetime.combine(today - timedelta(days=i), time(12), tzinfo=UTC))
    for back in (3, 2, 1, 0):
        run_streaks(now - timedelta(days=back))
    s = state(graced.id)
    assert (s.current_streak, s.grace_days) == (9, 0)      # yesterday covered by the banked grace day
    assert state(broken.id).current_streak == 0
    result = runner.invoke(args=["thrive", "verify"])
    assert result.exit_code == 0, result.output
    assert "No drift" in result.output
