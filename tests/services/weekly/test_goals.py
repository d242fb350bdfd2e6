"""Weekly goals (§6.2): creation (job and lazy), progress per template kind, completion once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import GoalTemplate, Learner, LedgerEntry, Notification, PointRule, WeeklyGoal
from thrive.services.errors import UnknownLearner, ValidationError
from thrive.services.points import registry
from thrive.services.points.award import award
from thrive.services.points.verify import verify
from thrive.services.weekly.goals import create_weekly_goals, ensure_goals, goal_views, goals_for

UTC = UTC
W = "2026-W45"                      # Monday 2026-11-02 … Sunday 2026-11-08 (platform time UTC)
MON = datetime(2026, 11, 2, 12, tzinfo=UTC)


def day(n: int, hour: int = 12) -> datetime:
    """Noon (UTC) of day ``n`` of week W (0 = Monday); negative = the week before."""
    return MON + timedelta(days=n, hours=hour - 12)


def give(learner_id: int, activity: str, key: str, when: datetime, **kw):
    return award(learner_id, activity, event_key=key, occurred_at=when, now=when + timedelta(minutes=1), **kw)


def by_key(learner_id: int, week: str = W) -> dict[str, WeeklyGoal]:
    db.session.expire_all()
    keys = dict(db.session.execute(select(GoalTemplate.id, GoalTemplate.key)).all())
    return {keys[g.template_id]: g for g in goals_for(learner_id, week)}


def completions(learner_id: int) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type == "weekly_goal_completed")
        .order_by(LedgerEntry.id)))


def goal_notes(learner_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.learner_id == learner_id, Notification.type == "weekly_goal_completed"))


# --- creation -------------------------------------------------------------------------------------

def test_ensure_goals_copies_every_enabled_template(app_ctx, make_learner):
    learner = make_learner()
    goals = ensure_goals(learner.id, W, now=day(0))
    assert [(g.title, g.kind, g.target, g.reward, g.progress) for g in goals] == [
        ("Complete 3 activities", "activity_count", 3, 30, 0),
        ("Maintain a 7-day streak", "streak_days", 7, 50, 0),
        ("Help 5 community members", "activity_count", 5, 40, 0),
        ("Try 2 new quiz topics", "new_quiz_topics", 2, 25, 0),
    ]
    assert ensure_goals(learner.id, W, now=day(1)) == goals  # nothing new the second time
    with pytest.raises(ValidationError):
        ensure_goals(learner.id, "2026-45")
    with pytest.raises(UnknownLearner):
        ensure_goals(999_999, W)


def test_job_creates_goals_for_active_learners_only_and_rerun_is_a_no_op(app_ctx, make_learner):
    active, recent, idle, never = make_learner(), make_learner(), make_learner(), make_learner()
    give(active.id, "comment_posted", "a", day(-3))
    give(recent.id, "comment_posted", "r", day(-27))      # 27 days before the week starts
    give(idle.id, "comment_posted", "i", day(-30))        # 29.5 days before: not active
    db.session.execute(
        db.update(GoalTemplate).where(GoalTemplate.key == "help_community").values(enabled=False))
    db.session.commit()
    counts = create_weekly_goals(W, now=day(0, 0))
    assert counts == {"week": W, "eligible": 2, "created": 6, "refreshed": 0, "completed": 0}
    assert set(by_key(active.id)) == {"complete_activities", "streak_7", "new_quiz_topics"}
    assert len(by_key(recent.id)) == 3
    assert by_key(idle.id) == {} and by_key(never.id) == {}
    again = create_weekly_goals(W, now=day(0, 1))
    assert again["created"] == 0
    assert db.session.scalar(select(func.count()).select_from(WeeklyGoal)) == 6
    with pytest.raises(ValidationError):
        create_weekly_goals("2026-W99")


# --- progress per template ------------------------------------------------------------------------

def test_activity_count_progresses_from_listed_activities_and_completes_once(app_ctx, make_learner):
    learner = make_learner()
    ensure_goals(learner.id, W, now=day(0, 0))
    give(learner.id, "comment_posted", "c0", day(0))          # not in "complete 3 activities"
    give(learner.id, "quiz_completed", "q1", day(0))
    give(learner.id, "project_created", "p1", day(1))
    assert by_key(learner.id)["complete_activities"].progress == 2
    third = give(learner.id, "battle_participated", "b1", day(2))
    goal = by_key(learner.id)["complete_activities"]
    assert goal.progress == 3 and goal.completed_at is not None
    assert third.total_points == 20 + 20 + 25 + 5 + 30       # the reward lands in the same transaction
    give(learner.id, "quiz_completed", "q2", day(3))
    assert give(learner.id, "battle_participated", "b1", day(2)).duplicate
    [entry] = completions(learner.id)
    assert (entry.points, entry.event_key) == (30, f"goal:{goal.id}")
    assert entry.occurred_at.replace(tzinfo=UTC) == day(2)    # dated at the award that completed it
    assert goal_notes(learner.id) == 1
    assert by_key(learner.id)["help_community"].progress == 1
    assert verify(now=day(3, 13)) == []


def test_help_community_counts_comments_and_feedback_but_not_capped_ones(app_ctx, make_learner):
    learner = make_learner()
    ensure_goals(learner.id, W, now=day(0, 0))
    db.session.get(PointRule, "comment_posted").max_per_day = 2
    db.session.commit()
    registry.invalidate()
    for i in range(4):                                        # 2 count, 2 capped
        give(learner.id, "comment_posted", f"c{i}", day(0, 10 + i))
    assert by_key(learner.id)["help_community"].progress == 2
    give(learner.id, "feedback_given", "f1", day(1))
    give(learner.id, "comment_posted", "c9", day(1))
    assert by_key(learner.id)["help_community"].completed_at is None
    give(learner.id, "feedback_given", "f2", day(2))
    goal = by_key(learner.id)["help_community"]
    assert goal.progress == 5 and goal.completed_at is not None
    assert [e.points for e in completions(learner.id)] == [40]


def test_only_awards_of_the_goal_week_count(app_ctx, make_learner):
    learner = make_learner()
    ensure_goals(learner.id, W, now=day(0, 0))
    ensure_goals(learner.id, "2026-W46", now=day(0, 0))
    give(learner.id, "quiz_completed", "before", day(-1))    # Sunday of the week before
    give(learner.id, "quiz_completed", "next", day(7))       # Monday of the next week
    assert by_key(learner.id)["complete_activities"].progress == 0
    assert by_key(learner.id, "2026-W46")["complete_activities"].progress == 1


def test_streak_goal_tracks_the_current_streak(app_ctx, make_learner):
    learner = make_learner()
    ensure_goals(learner.id, W, now=day(0, 0))
    for n in range(-3, 3):                                    # Friday before … Wednesday: 6 days
        give(learner.id, "daily_login", f"d{n}", day(n))
    assert by_key(learner.id)["streak_7"].progress == 6
    give(learner.id, "streak_bonus", "bonus", day(2, 23), points=30)  # consistency: not activity
    assert by_key(learner.id)["streak_7"].progress == 6
    give(learner.id, "daily_login", "d3", day(3))
    goal = by_key(learner.id)["streak_7"]
    assert goal.progress == 7 and goal.completed_at is not None
    give(learner.id, "daily_login", "d4", day(4))
    assert [e.points for e in completions(learner.id)] == [50]


def test_streak_goal_restarts_with_a_broken_streak(app_ctx, make_learner):
    learner = make_learner()
    ensure_goals(learner.id, W, now=day(0, 0))
    give(learner.id, "daily_login", "d0", day(0))
    give(learner.id, "daily_login", "d1", day(1))
    assert by_key(learner.id)["streak_7"].progress == 2
    give(learner.id, "daily_login", "d4", day(4))             # two days missed, no grace banked
    assert by_key(learner.id)["streak_7"].progress == 1


def test_new_quiz_topics_counts_topics_never_completed_before(app_ctx, make_learner):
    learner = make_learner()
    give(learner.id, "quiz_completed", "old", day(-5), metadata={"topic": "Prompting"})
    ensure_goals(learner.id, W, now=day(0, 0))
    give(learner.id, "quiz_completed", "q1", day(0), metadata={"topic": "Prompting"})   # not new
    give(learner.id, "quiz_completed", "q2", day(0, 13), metadata={"topic": "Ethics"})
    give(learner.id, "quiz_completed", "q3", day(1), metadata={"topic": "Ethics"})      # same topic again
    give(learner.id, "quiz_completed", "q4", day(1, 13))                                # no topic
    goal = by_key(learner.id)["new_quiz_topics"]
    assert (goal.progress, goal.data, goal.completed_at) == (1, {"topics": ["Ethics"]}, None)
    give(learner.id, "quiz_completed", "q5", day(2), metadata={"topic": "Vision"})
    goal = by_key(learner.id)["new_quiz_topics"]
    assert goal.progress == 2 and goal.completed_at is not None
    assert goal_views([goal])[0].topics == ("Ethics", "Vision")
    give(learner.id, "quiz_completed", "q6", day(3), metadata={"topic": "Robots"})
    assert [e.points for e in completions(learner.id) if e.meta["goal"] == goal.title] == [25]


def _activity(learner_id: int, tag: str) -> None:
    give(learner_id, "quiz_completed", f"{tag}-q0", day(-2), metadata={"topic": "Old"})
    for n in range(-1, 3):
        give(learner_id, "daily_login", f"{tag}-d{n}", day(n, 8))
    give(learner_id, "quiz_completed", f"{tag}-q1", day(0), metadata={"topic": "Old"})
    give(learner_id, "quiz_completed", f"{tag}-q2", day(1), metadata={"topic": "New A"})
    give(learner_id, "project_published", f"{tag}-p1", day(1, 14))
    give(learner_id, "quiz_completed", f"{tag}-q3", day(2), metadata={"topic": "New B"})
    give(learner_id, "comment_posted", f"{tag}-c1", day(2, 15))


def _snapshot(learner_id: int):
    rows = sorted(by_key(learner_id).items())
    goals = [(k, g.title, g.kind, g.activity_types, g.target, g.progress, g.reward, g.data,
              g.completed_at.replace(tzinfo=UTC) if g.completed_at else None) for k, g in rows]
    awarded = [(e.points, e.occurred_at.replace(tzinfo=UTC), e.meta["goal"]) for e in completions(learner_id)]
    return goals, sorted(awarded)


def test_lazily_created_goals_equal_the_jobs_and_the_hooks(app_ctx, make_learner):
    by_job, lazily, early = make_learner(), make_learner(), make_learner()
    ensure_goals(early.id, W, now=day(-3))                    # goals exist before any award: hook path
    for learner, tag in ((by_job, "job"), (lazily, "lazy"), (early, "early")):
        _activity(learner.id, tag)
    ensure_goals(lazily.id, W, now=day(2, 20))                # first view (mid-week)
    lazy_view = _snapshot(lazily.id)
    counts = create_weekly_goals(W, now=day(2, 21))           # the Monday job, caught up mid-week
    assert (counts["created"], counts["completed"]) == (4, 2)  # only by_job's goals were missing
    assert _snapshot(lazily.id) == lazy_view                  # refreshing again changes nothing
    job_view = _snapshot(by_job.id)
    assert lazy_view == job_view
    assert _snapshot(early.id) == job_view
    goals, awarded = job_view
    assert [(g[0], g[5]) for g in goals] == [                # (template, progress)
        ("complete_activities", 3), ("help_community", 1), ("new_quiz_topics", 2), ("streak_7", 5)]
    assert [(points, when) for points, when, _ in awarded] == [(25, day(2)), (30, day(1, 14))]
    # Later awards behave the same whichever way the goals were created.
    for learner, tag in ((by_job, "job"), (lazily, "lazy"), (early, "early")):
        for i in range(4):
            give(learner.id, "feedback_given", f"{tag}-f{i}", day(3, 9 + i))
    assert _snapshot(lazily.id) == _snapshot(by_job.id) == _snapshot(early.id)
    assert [p for p, *_ in _snapshot(by_job.id)[1]] == [25, 30, 40]
    assert create_weekly_goals(W, now=day(3, 20))["completed"] == 0
    assert verify(now=day(3, 20)) == []


def test_a_reward_outside_the_rule_range_never_breaks_the_award(app_ctx, make_learner):
    learner = make_learner()
    db.session.execute(db.update(GoalTemplate).where(GoalTemplate.key == "complete_activities")
                       .values(reward=5000))
    db.session.commit()
    ensure_goals(learner.id, W, now=day(0, 0))
    for i in range(3):
        result = give(learner.id, "quiz_completed", f"q{i}", day(0, 9 + i))
    assert result.points_awarded == 20 and not result.duplicate
    goal = by_key(learner.id)["complete_activities"]
    assert goal.progress == 3 and goal.completed_at is None
    assert completions(learner.id) == []


def test_notification_preference_is_honoured(app_ctx, make_learner):
    learner = make_learner()
    db.session.get(Learner, learner.id).notification_prefs = {"weekly_goal_completed": False}
    db.session.commit()
    ensure_goals(learner.id, W, now=day(0, 0))
    for i in range(3):
        give(learner.id, "quiz_completed", f"q{i}", day(0, 9 + i))
    assert by_key(learner.id)["complete_activities"].completed_at is not None
    assert goal_notes(learner.id) == 0


def test_the_open_goal_check_rides_in_the_cap_count_after_the_lock(app_ctx, make_learner):
    """PostgreSQL: one post-lock statement reads the cap count and the open-goal weeks (no separate look-up);
    the answer is the same on both databases: the goal of the award's week advances, another week's does not."""
    from sqlalchemy import event

    learner = make_learner()
    ensure_goals(learner.id, "2026-W46", now=day(0, 0))        # an open goal, but of another week
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        give(learner.id, "comment_posted", "c1", day(0))       # capped daily: its count is read after the lock
        ensure_goals(learner.id, W, now=day(0, 13))
        give(learner.id, "feedback_given", "f1", day(0, 14))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert by_key(learner.id)["help_community"].progress == 2  # c1 by the catch-up of ensure_goals, f1 by the hook
    assert by_key(learner.id, "2026-W46")["help_community"].progress == 0
    if db.engine.dialect.name == "postgresql":
        goal_reads = [s for s in seen if "FROM weekly_goals" in s and s.startswith("SELECT") and "FOR UPDATE" not in s
                      and "weekly_goals.id" not in s]
        assert goal_reads and all("count(ledger_entries.id)" in s for s in goal_reads)
        assert not any("nextval" in s for s in seen)           # a single award's row: INSERT … RETURNING id
