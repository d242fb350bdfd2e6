"""award(): amounts, caps, idempotency, day/week edges, progression, concurrency (§4, §5)."""
from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.services._workers import award_in_process
from thrive.extensions import db
from thrive.models import Celebration, LearnerState, LedgerEntry, Notification, PointRule, ProgressionEvent
from thrive.services.errors import (
    ActivityDisabled,
    EventKeyConflict,
    PointsOutOfRange,
    UnknownActivityType,
    UnknownLearner,
    ValidationError,
)
from thrive.services.points import registry
from thrive.services.points.award import AwardRequest, award, award_many
from thrive.services.points.verify import verify

UTC = UTC


def state_of(learner_id: int) -> LearnerState:
    db.session.expire_all()
    return db.session.get(LearnerState, learner_id)


def ledger_sum(learner_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                             .where(LedgerEntry.learner_id == learner_id))


# --- amounts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("metadata, expected", [
    (None, 20),
    ({"difficulty": "beginner"}, 10),
    ({"difficulty": "intermediate"}, 25),
    ({"difficulty": "advanced"}, 50),
    ({"difficulty": "advanced", "score": 100}, 63),   # 50 × 1.25 = 62.5, rounded half up
    ({"score": 100}, 25),
    ({"perfect": True, "difficulty": "beginner"}, 13),
    ({"score": 99}, 20),
    ({"difficulty": "legendary"}, 20),
])
def test_quiz_amounts(app_ctx, make_learner, metadata, expected):
    learner = make_learner()
    result = award(learner.id, "quiz_completed", event_key="q1", metadata=metadata)
    assert result.points_awarded == expected
    assert state_of(learner.id).total_points == expected


def test_custom_points_rules(app_ctx, make_learner):
    learner = make_learner()
    assert award(learner.id, "weekly_challenge_completed", event_key="w1").points_awarded == 75
    assert award(learner.id, "special_event", event_key="s1", points=500).points_awarded == 500
    with pytest.raises(PointsOutOfRange):
        award(learner.id, "special_event", event_key="s2", points=5000)
    with pytest.raises(PointsOutOfRange):
        award(learner.id, "quiz_completed", event_key="s3", points=30)  # no custom amount allowed
    with pytest.raises(PointsOutOfRange):
        award(learner.id, "comment_posted", event_key="s4", points=-5)
    with pytest.raises(ValidationError):
        award(learner.id, "admin_adjustment", event_key="a1", points=-10)  # reason required
    assert award(learner.id, "admin_adjustment", event_key="a2", points=-10,
                 description="duplicate import").points_awarded == -10
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 3


def test_rejections_write_nothing(app_ctx, make_learner):
    learner = make_learner()
    with pytest.raises(UnknownActivityType):
        award(learner.id, "teleported", event_key="x1")
    with pytest.raises(UnknownLearner):
        award(987654, "comment_posted", event_key="x2")
    with pytest.raises(ValidationError):
        award(learner.id, "comment_posted", event_key="")
    with pytest.raises(ValidationError):
        award(learner.id, "comment_posted", event_key="x3", metadata=["not", "an", "object"])
    with pytest.raises(ValidationError):
        award(learner.id, "comment_posted", event_key="x4",
              occurred_at=datetime.now(UTC) + timedelta(days=2))
    rule = db.session.get(PointRule, "comment_posted")
    rule.enabled = False
    db.session.commit()
    registry.invalidate()
    with pytest.raises(ActivityDisabled):
        award(learner.id, "comment_posted", event_key="x5")
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0
    assert state_of(learner.id).total_points == 0


def test_new_activity_type_at_run_time(app_ctx, make_learner):
    learner = make_learner()
    db.session.add(PointRule(activity_type="podcast_listened", label="Listened to a podcast",
                             category="learning", base_points=7, max_per_day=2))
    db.session.commit()
    registry.invalidate()
    results = [award(learner.id, "podcast_listened", event_key=f"p{i}") for i in range(3)]
    assert [r.points_awarded for r in results] == [7, 7, 0]
    assert results[2].capped


# --- caps --------------------------------------------------------------------------------------

def test_daily_cap_writes_capped_entries(app_ctx, make_learner):
    learner = make_learner()
    at = datetime(2026, 11, 18, 12, tzinfo=UTC)
    results = [award(learner.id, "quiz_completed", event_key=f"q{i}", occurred_at=at, now=at) for i in range(12)]
    assert sum(1 for r in results if not r.capped) == 10
    assert [r.capped for r in results[10:]] == [True, True]
    assert all(r.points_awarded == 0 for r in results[10:])
    assert db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.capped.is_(True))) == 2
    assert state_of(learner.id).total_points == 200 == ledger_sum(learner.id)


def test_weekly_and_ever_caps(app_ctx, make_learner):
    learner = make_learner()
    monday = datetime(2026, 11, 16, 9, tzinfo=UTC)
    r1 = award(learner.id, "weekly_challenge_completed", event_key="c1", occurred_at=monday, now=monday)
    r2 = award(learner.id, "weekly_challenge_completed", event_key="c2", occurred_at=monday + timedelta(days=6),
               now=monday + timedelta(days=6))
    r3 = award(learner.id, "weekly_challenge_completed", event_key="c3", occurred_at=monday + timedelta(days=7),
               now=monday + timedelta(days=7))
    assert (r1.capped, r2.capped, r3.capped) == (False, True, False)
    assert not award(learner.id, "profile_completed", event_key="p1").capped
    assert award(learner.id, "profile_completed", event_key="p2").capped


def test_local_day_cap_across_midnight_in_learner_timezone(app_ctx, make_learner):
    learner = make_learner(timezone="Asia/Tokyo")  # UTC+9
    # 14:30 UTC = 23:30 in Tokyo; 15:30 UTC = 00:30 the next Tokyo day
    before = datetime(2026, 11, 17, 14, 30, tzinfo=UTC)
    after = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
    assert not award(learner.id, "daily_login", event_key="d1", occurred_at=before, now=after).capped
    assert award(learner.id, "daily_login", event_key="d2", occurred_at=before - timedelta(hours=10),
                 now=after).capped  # 13:30 Tokyo same local day
    assert not award(learner.id, "daily_login", event_key="d3", occurred_at=after, now=after).capped
    days = db.session.scalars(select(LedgerEntry.local_date).order_by(LedgerEntry.id)).all()
    assert days == [date(2026, 11, 17), date(2026, 11, 17), date(2026, 11, 18)]


def test_local_day_cap_across_dst_change(app_ctx, make_learner):
    # New York falls back on 2026-11-01 02:00 EDT → 01:00 EST: that local day lasts 25 hours.
    learner = make_learner(timezone="America/New_York")
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)     # 00:00 EDT, 1 Nov
    late = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)     # 23:30 EST, still 1 Nov (25-hour day)
    next_day = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # 00:00 EST, 2 Nov
    now = datetime(2026, 11, 3, tzinfo=UTC)
    assert not award(learner.id, "daily_login", event_key="n1", occurred_at=start, now=now).capped
    assert award(learner.id, "daily_login", event_key="n2", occurred_at=late, now=now).capped
    assert not award(learner.id, "daily_login", event_key="n3", occurred_at=next_day, now=now).capped
    # spring forward: 2027-03-14 has 23 hours in New York
    spring_start = datetime(2027, 3, 14, 5, 0, tzinfo=UTC)   # 00:00 EST
    spring_end = datetime(2027, 3, 15, 3, 59, tzinfo=UTC)    # 23:59 EDT, same local day
    later = datetime(2027, 3, 16, tzinfo=UTC)
    assert not award(learner.id, "daily_login", event_key="s1", occurred_at=spring_start, now=later).capped
    assert award(learner.id, "daily_login", event_key="s2", occurred_at=spring_end, now=later).capped


def test_iso_week_53_to_week_1(app_ctx, make_learner):
    learner = make_learner()
    now = datetime(2027, 1, 10, tzinfo=UTC)
    w53 = datetime(2027, 1, 3, 22, tzinfo=UTC)   # Sunday of 2026-W53
    w01 = datetime(2027, 1, 4, 1, tzinfo=UTC)    # Monday of 2027-W01
    a = award(learner.id, "weekly_challenge_completed", event_key="w53", occurred_at=w53, now=now)
    b = award(learner.id, "weekly_challenge_completed", event_key="w53b", occurred_at=w53 - timedelta(days=6),
              now=now)
    c = award(learner.id, "weekly_challenge_completed", event_key="w01", occurred_at=w01, now=now)
    assert (a.capped, b.capped, c.capped) == (False, True, False)
    weeks = db.session.scalars(select(LedgerEntry.week).order_by(LedgerEntry.id)).all()
    assert weeks == ["2026-W53", "2026-W53", "2027-W01"]
    state = state_of(learner.id)
    assert (state.weekly_week, state.weekly_points) == ("2027-W01", 75)


# --- idempotency -------------------------------------------------------------------------------

def test_same_key_same_payload_is_a_duplicate(app_ctx, make_learner):
    learner = make_learner()
    first = award(learner.id, "quiz_completed", event_key="k", metadata={"topic": "AAA", "score": 100})
    again = award(learner.id, "quiz_completed", event_key="k", metadata={"score": 100, "topic": "AAA"})
    assert again.duplicate and not first.duplicate
    assert again.event_id == first.event_id and again.points_awarded == first.points_awarded == 25
    assert again.total_points == first.total_points
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1


@pytest.mark.parametrize("change", [
    {"metadata": {"topic": "BBB"}},
    {"activity_type": "comment_posted"},
    {"other_learner": True},
    {"description": "something else"},
])
def test_same_key_other_payload_is_rejected(app_ctx, make_learner, change):
    learner, other = make_learner(), make_learner()
    award(learner.id, "quiz_completed", event_key="k", metadata={"topic": "AAA"})
    kwargs = {"metadata": change.get("metadata", {"topic": "AAA"}), "description": change.get("description")}
    target = other.id if change.get("other_learner") else learner.id
    with pytest.raises(EventKeyConflict):
        award(target, change.get("activity_type", "quiz_completed"), event_key="k", **kwargs)
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    assert state_of(other.id).total_points == 0


def test_award_many_mixed_batch(app_ctx, make_learner):
    learner = make_learner()
    results = award_many([
        AwardRequest(learner.id, "comment_posted", "b1"),
        AwardRequest(learner.id, "comment_posted", "b1"),
        AwardRequest(learner.id, "no_such_type", "b2"),
        AwardRequest(424242, "comment_posted", "b3"),
        AwardRequest(learner.id, "feedback_given", "b4"),
    ])
    assert results[0].points_awarded == 5 and not results[0].duplicate
    assert results[1].duplicate
    assert isinstance(results[2], UnknownActivityType) and isinstance(results[3], UnknownLearner)
    assert results[4].total_points == 15
    assert state_of(learner.id).total_points == 15 == ledger_sum(learner.id)


# --- progression -------------------------------------------------------------------------------

def test_one_award_crossing_three_levels_reports_all(app_ctx, make_learner):
    learner = make_learner()
    result = award(learner.id, "special_event", event_key="big", points=250)  # 0 → 250: levels 2,3,4,5 (50,100,200)
    assert result.level_upgraded and result.levels_gained == [2, 3, 4]
    assert result.level == 4
    assert result.tier_upgraded and result.tiers_gained == ["spark"] and result.tier == "spark"
    events = db.session.scalars(select(ProgressionEvent).where(ProgressionEvent.kind == "level_up")
                                .order_by(ProgressionEvent.id)).all()
    assert [(e.from_value, e.to_value) for e in events] == [("1", "2"), ("2", "3"), ("3", "4")]
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.type == "tier_up")) == 1
    assert db.session.scalar(select(func.count(Celebration.id))) == 1


def test_tier_jump_records_every_tier(app_ctx, make_learner):
    learner = make_learner()
    result = award(learner.id, "special_event", event_key="huge", points=1000)
    assert result.tiers_gained == ["spark", "blaze", "beacon"] and result.tier == "beacon"
    assert result.levels_gained == list(range(2, 9))


def test_tier_and_level_never_decrease_after_negative_adjustment(app_ctx, make_learner):
    learner = make_learner()
    award(learner.id, "special_event", event_key="up", points=600)
    result = award(learner.id, "admin_adjustment", event_key="down", points=-550, description="correction")
    assert result.total_points == 50
    assert result.tier == "blaze" and result.level == 6
    state = state_of(learner.id)
    assert (state.tier_key, state.level, state.peak_points) == ("blaze", 6, 600)
    assert verify() == []
    # earning again below the old peak re-reports nothing
    again = award(learner.id, "special_event", event_key="again", points=300)
    assert not again.tier_upgraded and not again.level_upgraded


def test_levels_beyond_the_table(app_ctx, make_learner):
    learner = make_learner()
    award(learner.id, "admin_adjustment", event_key="a", points=40_000, description="migration")
    assert state_of(learner.id).level == 25  # 20,000 → 23; +10,000 per level


def test_lifetime_counters_and_weekly_points(app_ctx, make_learner):
    learner = make_learner()
    for i in range(3):
        award(learner.id, "quiz_completed", event_key=f"q{i}")
    award(learner.id, "project_created", event_key="p")
    award(learner.id, "comment_posted", event_key="c")
    state = state_of(learner.id)
    assert (state.quizzes_completed, state.projects_created, state.comments_posted) == (3, 1, 1)
    assert state.weekly_points == state.total_points == 85


def test_streaks_with_grace_days(app_ctx, make_learner):
    learner = make_learner(timezone="Europe/Berlin")
    base = datetime(2026, 10, 1, 10, tzinfo=UTC)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for day in range(7):
        award(learner.id, "comment_posted", event_key=f"c{day}", occurred_at=base + timedelta(days=day), now=now)
    state = state_of(learner.id)
    assert (state.current_streak, state.grace_days) == (7, 1)
    # miss day 8, come back on day 9: the grace day covers it
    award(learner.id, "comment_posted", event_key="c9", occurred_at=base + timedelta(days=8), now=now)
    state = state_of(learner.id)
    assert (state.current_streak, state.grace_days, state.longest_streak) == (8, 0, 8)
    # miss two days: broken
    award(learner.id, "comment_posted", event_key="c12", occurred_at=base + timedelta(days=11), now=now)
    state = state_of(learner.id)
    assert (state.current_streak, state.longest_streak) == (1, 8)
    # consistency awards do not make a day active
    award(learner.id, "streak_bonus", event_key="sb", points=5, occurred_at=base + timedelta(days=12), now=now)
    assert state_of(learner.id).current_streak == 1
    assert verify(now=now) == []


# --- verify ------------------------------------------------------------------------------------

def test_verify_reports_and_fixes_drift(app_ctx, make_learner, runner):
    learner = make_learner()
    award(learner.id, "quiz_completed", event_key="q")
    state = state_of(learner.id)
    state.total_points = 999
    state.quizzes_completed = 5
    db.session.commit()
    drifts = verify()
    assert {d.field for d in drifts} >= {"total_points", "quizzes_completed"}
    result = runner.invoke(args=["thrive", "verify"])
    assert result.exit_code == 1 and "total_points" in result.output
    result = runner.invoke(args=["thrive", "verify", "--fix"])
    assert result.exit_code == 0
    assert runner.invoke(args=["thrive", "verify"]).exit_code == 0
    assert state_of(learner.id).total_points == 20


# --- concurrency -------------------------------------------------------------------------------

def _thread_awards(app, learner_id, keys, activity_type="quiz_completed"):
    barrier = threading.Barrier(len(keys))

    def one(key):
        with app.app_context():
            barrier.wait()
            try:
                r = award(learner_id, activity_type, event_key=key)
                return (r.points_awarded, r.capped, r.duplicate)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        return list(pool.map(one, keys))


@pytest.fixture
def app_config(database_url):
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 60, "max_overflow": 0}
            if database_url.startswith("postgresql") else {}}


def test_50_concurrent_awards_respect_the_daily_cap(app, make_learner):
    learner = make_learner()
    results = _thread_awards(app, learner.id, [f"cc{i}" for i in range(50)])
    assert sum(1 for p, capped, _ in results if not capped and p == 20) == 10
    assert sum(1 for _, capped, _ in results if capped) == 40
    with app.app_context():
        assert state_of(learner.id).total_points == 200 == ledger_sum(learner.id)
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 50


def test_50_concurrent_awards_from_two_processes(app, make_learner, database_url):
    learner = make_learner()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(2) as pool:
        start = manager.Barrier(2)
        jobs = [pool.apply_async(award_in_process,
                                 (database_url, learner.id, [f"p{w}-{i}" for i in range(25)], start,
                                  "quiz_completed")) for w in range(2)]
        results = [r for job in jobs for r in job.get(timeout=120)]
    assert len(results) == 50
    assert sum(1 for _, capped, _ in results if not capped) == 10
    with app.app_context():
        assert state_of(learner.id).total_points == 200 == ledger_sum(learner.id)


def test_20_concurrent_awards_with_one_key(app, make_learner):
    learner = make_learner()
    results = _thread_awards(app, learner.id, ["same-key"] * 20, activity_type="comment_posted")
    assert sum(1 for _, _, dup in results if not dup) == 1
    assert sum(1 for _, _, dup in results if dup) == 19
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
        assert state_of(learner.id).total_points == 5


def _persist_settle(learner_id: int, today: date) -> None:
    """What the nightly streak job does: persist the missed days (grace or reset)."""
    from thrive.services.progression.streaks import StreakState, settle

    state = state_of(learner_id)
    settled, _used = settle(StreakState(state.current_streak, state.longest_streak, state.streak_through,
                                        state.grace_days), today)
    state.current_streak, state.grace_days = settled.current, settled.grace
    state.streak_through = settled.through
    db.session.commit()


@pytest.mark.parametrize("late_day, job_days", [
    (7, [8]),          # the job covered day 8 with a grace day; then an award dated day 8 arrives
    (7, [8, 9, 10]),   # the job covered day 8 and reset the streak; then an award dated day 8 arrives
    (3, [8]),          # an award dated inside the streak (already active) changes nothing
    (12, [8, 9, 10]),  # a new day after a reset
])
def test_late_awards_after_the_streak_job_keep_verify_clean(app_ctx, make_learner, late_day, job_days):
    learner = make_learner()
    base = datetime(2026, 10, 1, 12, tzinfo=UTC)
    now = datetime(2026, 10, 20, tzinfo=UTC)
    for day in range(7):
        award(learner.id, "comment_posted", event_key=f"c{day}", occurred_at=base + timedelta(days=day), now=now)
    for job_day in job_days:  # the job runs after local day `job_day - 1` (0-based) ended
        _persist_settle(learner.id, (base + timedelta(days=job_day)).date())
    award(learner.id, "comment_posted", event_key="late", occurred_at=base + timedelta(days=late_day), now=now)
    assert verify(now=now) == []
    assert verify(now=base + timedelta(days=late_day + 1)) == []
