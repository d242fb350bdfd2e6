"""Recommended actions (§7): dynamic from the learner's own ledger, weekly goals and streak."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import GoalTemplate, Learner, WeeklyGoal
from thrive.services.insights.recommendations import ACTIONS, MAX_FRESH, MAX_GOALS, recommend
from thrive.services.points.award import award
from thrive.services.points.registry import load_registry
from thrive.timeutil import platform_week

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)  # a Thursday; ISO week 2026-W11
YESTERDAY = NOW - timedelta(days=1)


def _w(rec):
    """A recommendation as the learner reads it (worded by the web layer, issue 7: services return data)."""
    from flask import current_app

    from thrive.web.actions import recommendation_view

    with current_app.test_request_context():
        return recommendation_view(rec)


def _fresh(learner_id: int) -> Learner:
    db.session.expire_all()
    return db.session.get(Learner, learner_id)


def _award(learner_id, activity_type, when, key, **kw):
    return award(learner_id, activity_type, event_key=key, occurred_at=when, now=NOW, **kw)


def test_new_learner_gets_varied_never_done_suggestions(app_ctx, make_learner):
    learner = make_learner()
    recs = recommend(_fresh(learner.id), NOW)
    assert 1 <= len(recs) <= MAX_FRESH
    assert all(r.reason == "lately" and r.key == f"try:{r.activity_type}" for r in recs)
    assert all(_w(r).detail.startswith("You haven't ") and "yet." in _w(r).detail for r in recs)
    registry = load_registry()
    categories = [registry.rules[r.activity_type].category for r in recs]
    assert len(set(categories)) == len(categories)  # one per category


def test_what_was_done_today_drops_out_and_others_come_in(app_ctx, make_learner):
    learner = make_learner()
    first = recommend(_fresh(learner.id), NOW)
    for i, rec in enumerate(first):
        _award(learner.id, rec.activity_type, NOW - timedelta(minutes=5), f"r:{i}")
    second = recommend(_fresh(learner.id), NOW)
    assert second and not {r.activity_type for r in first} & {r.activity_type for r in second if r.activity_type}


def test_longest_gap_first_with_quiet_category(app_ctx, make_learner):
    learner = make_learner()
    for i, activity_type in enumerate(ACTIONS):
        when = NOW - timedelta(days=30 if activity_type == "quiz_completed" else 20)
        _award(learner.id, activity_type, when, f"g:{i}")
    recs = [r for r in recommend(_fresh(learner.id), NOW) if r.reason == "lately"]
    assert recs[0].activity_type == "quiz_completed"
    assert _w(recs[0]).detail == "You haven't completed a quiz for 30 days. No learning points in the last 7 days."
    # profile_completed (max 1 ever) is never suggested again
    assert all(r.activity_type != "profile_completed" for r in recommend(_fresh(learner.id), NOW))


def _everything_yesterday_except(learner_id, skip):
    for i, activity_type in enumerate(ACTIONS):
        if activity_type != skip:
            _award(learner_id, activity_type, YESTERDAY, f"y:{learner_id}:{i}")


def test_capped_actions_are_not_suggested(app_ctx, make_learner):
    capped, open_ = make_learner(), make_learner()
    _everything_yesterday_except(capped.id, "weekly_challenge_completed")
    _everything_yesterday_except(open_.id, "weekly_challenge_completed")
    # Weekly challenge: max 1 per platform week. This week's (Monday) → capped; last week's → open.
    _award(capped.id, "weekly_challenge_completed", datetime(2026, 3, 9, 9, tzinfo=UTC), "wc:1")
    _award(open_.id, "weekly_challenge_completed", datetime(2026, 3, 8, 9, tzinfo=UTC), "wc:2")
    assert not [r for r in recommend(_fresh(capped.id), NOW) if r.reason == "lately"]
    open_recs = [r for r in recommend(_fresh(open_.id), NOW) if r.reason == "lately"]
    assert [r.activity_type for r in open_recs] == ["weekly_challenge_completed"]
    assert _w(open_recs[0]).detail == "You haven't done a weekly challenge for 4 days."


def test_streak_reminder_until_active_today(app_ctx, make_learner):
    learner = make_learner()
    for days in (3, 2, 1):
        _award(learner.id, "comment_posted", NOW - timedelta(days=days), f"s:{days}")
    recs = recommend(_fresh(learner.id), NOW)
    streak = [r for r in recs if r.key == "streak"]
    assert streak and _w(streak[0]).title == "Keep your 3-day streak alive"
    _award(learner.id, "comment_posted", NOW - timedelta(minutes=1), "s:0")
    assert not [r for r in recommend(_fresh(learner.id), NOW) if r.key == "streak"]


def _goal(learner_id, key, progress=0):
    template = db.session.scalar(select(GoalTemplate).where(GoalTemplate.key == key))
    goal = WeeklyGoal(learner_id=learner_id, week=platform_week(NOW), template_id=template.id, title=template.title,
                      kind=template.kind, activity_types=template.activity_types, target=template.target,
                      progress=progress, reward=template.reward)
    db.session.add(goal)
    db.session.commit()
    return goal


def test_goals_closest_to_completion_come_first(app_ctx, make_learner):
    learner = make_learner()
    activities = _goal(learner.id, "complete_activities", progress=2)  # 1 of 3 left
    streak = _goal(learner.id, "streak_7")  # 7 of 7 left
    helping = _goal(learner.id, "help_community", progress=1)  # 4 of 5 left
    topics = _goal(learner.id, "new_quiz_topics", progress=1)  # 1 of 2 left
    recs = recommend(_fresh(learner.id), NOW)
    goal_recs = [r for r in recs if r.reason == "goal"]
    assert len(goal_recs) == MAX_GOALS
    assert [r.key for r in goal_recs] == [f"goal:{activities.id}", f"goal:{topics.id}"]
    assert _w(goal_recs[0]).title == "Finish “Complete 3 activities”"
    # copy fixed in issue 11 ("Worth 30 points.", not "+30"; "one of 2 other activities that count")
    first = _w(goal_recs[0]).detail
    assert first.startswith("1 more to go. ") and first.endswith("Worth 30 points.")
    assert "1 more to go. Complete a quiz on a topic you have not tried before." in _w(goal_recs[1]).detail
    assert f"goal:{streak.id}" not in {r.key for r in recs} and f"goal:{helping.id}" not in {r.key for r in recs}
    # the goal's activity is not suggested twice
    assert len([r for r in recs if r.activity_type == goal_recs[0].activity_type]) == 1


def test_streak_goal_counts_days_left(app_ctx, make_learner):
    learner = make_learner()
    streak_goal = _goal(learner.id, "streak_7")
    for days in (5, 4, 3, 2, 1):
        _award(learner.id, "comment_posted", NOW - timedelta(days=days), f"sg:{days}")
    rec = next(r for r in recommend(_fresh(learner.id), NOW) if r.key == f"goal:{streak_goal.id}")
    assert _w(rec).detail == "Do any activity today: 2 more days to go. Worth 50 points."


def test_goal_views_from_the_goals_panel_give_the_same_recommendations(app_ctx, make_learner):
    """The home page passes the goals panel's views (issue 12): same suggestions, finished goals left out."""
    from thrive.services.weekly.goals.reads import goal_views

    learner = make_learner()
    _goal(learner.id, "complete_activities", progress=2)
    _goal(learner.id, "new_quiz_topics", progress=1)
    done = _goal(learner.id, "help_community", progress=5)
    done.completed_at = NOW - timedelta(hours=1)
    db.session.commit()
    read_here = recommend(_fresh(learner.id), NOW)
    rows = db.session.scalars(select(WeeklyGoal).where(WeeklyGoal.learner_id == learner.id)).all()
    passed = recommend(_fresh(learner.id), NOW, goals=goal_views(rows))
    assert passed == read_here
    assert f"goal:{done.id}" not in {r.key for r in passed}
