"""Staff accounts are not learners unless flagged (§11): no circle, no goals, no daily visit,
absent from discover, feeds and community stats."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select, update

from tests.community_support import ago, give
from thrive.extensions import db
from thrive.models import CircleMembership, Learner, LedgerEntry, WeeklyGoal
from thrive.services.community import cheers, discover, feed
from thrive.services.community.visibility import shown_aggregate
from thrive.services.weekly.circles import assign_circles
from thrive.services.weekly.goals import create_weekly_goals
from thrive.timeutil import platform_week, utcnow


@pytest.fixture
def people(app, make_learner):
    """Six learners and a former learner made admin (not a learner), all active this week and sharing."""
    learners = [make_learner(f"learner{i}", topics=["Python"]) for i in range(6)]
    staff = make_learner("teacher", topics=["Python"])
    for person in [*learners, staff]:
        give(app, person.id, "quiz_completed", metadata={"topic": "Python"}, at=ago(minutes=30))
    give(app, staff.id, "special_event", points=300, at=ago(minutes=20))  # a tier-up in the feed
    with app.app_context():
        db.session.execute(update(Learner).where(Learner.id == staff.id).values(staff_role="admin", is_learner=False))
        db.session.commit()
        db.session.remove()
    return learners, staff


def test_staff_are_not_placed_in_circles_nor_given_goals(app, app_ctx, people):
    learners, staff = people
    week = platform_week(utcnow())
    assign_circles(week)
    create_weekly_goals(week)
    members = set(db.session.scalars(select(CircleMembership.learner_id).where(CircleMembership.week == week)))
    assert members == {p.id for p in learners}
    assert db.session.scalar(select(func.count(WeeklyGoal.id)).where(WeeklyGoal.learner_id == staff.id)) == 0
    # A new award mid-week does not place them either.
    give(app, staff.id, "event_attended")
    assert db.session.scalar(select(CircleMembership.id).where(CircleMembership.learner_id == staff.id)) is None


def test_staff_are_absent_from_discover(app, app_ctx, people):
    learners, staff = people
    result = discover.discover(learners[0].id, size=50, rng=random.Random(1))
    ids = {card.id for card in result.people}
    assert staff.id not in ids and learners[1].id in ids


def test_staff_are_absent_from_every_feed(app, app_ctx, people):
    learners, staff = people
    page = feed.feed_page(learners[0].id, group=False)
    actors = {item.actor.id for item in page.items}
    assert staff.id not in actors and learners[1].id in actors
    profile = feed.feed_page(learners[0].id, scope="profile", learner_id=staff.id, group=False)
    assert profile.items == []


def test_staff_are_absent_from_community_stats(app, app_ctx, people):
    learners, staff = people
    stats = cheers.weekly_stats(now=utcnow())
    assert stats.active_learners == len(learners)
    staff_points = db.session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.learner_id == staff.id))
    learner_points = db.session.scalar(select(func.sum(LedgerEntry.points))
                                       .where(LedgerEntry.learner_id.in_([p.id for p in learners])))
    # shown rounded (issue 10: no differencing), computed over learners only
    assert stats.points_together == shown_aggregate(learner_points, len(learners))
    assert staff_points and stats.points_together == shown_aggregate(learner_points, len(learners))
    assert stats.tier_ups == 0


def test_a_staff_member_flagged_as_learner_takes_part(app, app_ctx, make_learner):
    teacher = make_learner("teacher", staff_role="moderator", is_learner=True, topics=["Python"])
    others = [make_learner(f"peer{i}") for i in range(2)]
    for person in [teacher, *others]:
        give(app, person.id, "quiz_completed", at=ago(minutes=5))
    assign_circles(platform_week(utcnow()))
    assert db.session.scalar(select(CircleMembership.id).where(CircleMembership.learner_id == teacher.id))


def test_staff_get_no_daily_visit_award(app, client, auth, make_learner):
    make_learner("boss", staff_role="admin")
    make_learner("ada")
    for name, home in (("boss", "/admin/"), ("ada", "/")):
        auth.login(name)
        assert client.get(home).status_code == 200
        client.post("/logout", data={"csrf_token": auth.csrf_token(home)})
    with app.app_context():
        rows = db.session.execute(select(Learner.username, func.count(LedgerEntry.id))
                                  .outerjoin(LedgerEntry, LedgerEntry.learner_id == Learner.id)
                                  .group_by(Learner.username)).all()
        assert dict(rows) == {"boss": 0, "ada": 1}
        db.session.remove()
