"""Thrive Circles (§6.1): assignment properties, mid-week joiners, weekly points history, circle goal, CLI.

Runs on SQLite and (with THRIVE_TEST_DATABASE_URL) PostgreSQL through the ``app`` fixture.
Populations are inserted as learner + derived-state rows (assignment reads only the
state); everything that awards goes through ``award()``.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from thrive.extensions import db
from thrive.models import Celebration, Circle, CircleMembership, Learner, LearnerState, LedgerEntry, Notification
from thrive.models.circle_week import CircleWeek
from thrive.services.errors import ValidationError
from thrive.services.points.award import award
from thrive.services.points.registry import load_registry
from thrive.services.weekly.circles import (
    assign_circles,
    circle_count,
    circle_name,
    circle_sizes,
    goal,
    list_circles,
    plan_groups,
    seq_label,
    settle_circle_goals,
)
from thrive.timeutil import platform_week, shift_week, utcnow, week_start_instant


def _crash(*_args, **_kwargs):
    raise RuntimeError("simulated crash after commit")


TIERS = ["ember", "spark", "blaze", "beacon", "phoenix"]
#: Total points ranges per tier of the default ladder (0 / 250 / 500 / 1,000 / 2,500).
TIER_RANGE = {"ember": (0, 249), "spark": (250, 499), "blaze": (500, 999), "beacon": (1000, 2499),
              "phoenix": (2500, 9000)}
WEEK = "2026-W10"
T, M = 25, 15
_names = itertools.count(1)


# ---------------------------------------------------------------- helpers ---

def add_population(tiers: dict[str, int], week: str = WEEK, *, days_before: float = 3, seed: int = 1,
                   **learner_fields) -> list[int]:
    """Insert learners with derived state: ``tiers`` maps tier key → count; last award ``days_before`` the
    week start."""
    rng = random.Random(seed)
    at = week_start_instant(week) - timedelta(days=days_before)
    learners = []
    for tier, n in tiers.items():
        low, high = TIER_RANGE[tier]
        for _ in range(n):
            total = rng.randint(low, high)
            i = next(_names)
            learners.append(Learner(
                username=f"pop{i}", display_name=f"Pop {i}", timezone="UTC", notification_prefs={},
                state=LearnerState(total_points=total, peak_points=total, tier_key=tier, last_award_at=at),
                **learner_fields,
            ))
    db.session.add_all(learners)
    db.session.commit()
    return [learner.id for learner in learners]


def memberships(week: str = WEEK) -> list[tuple]:
    """(learner id, circle id, circle name, circle tier, seq, learner tier, total, points) for the week."""
    db.session.expire_all()
    return db.session.execute(
        select(CircleMembership.learner_id, Circle.id, Circle.name, Circle.tier_key, Circle.seq,
               LearnerState.tier_key, LearnerState.total_points, CircleMembership.points)
        .join(Circle, Circle.id == CircleMembership.circle_id)
        .join(LearnerState, LearnerState.learner_id == CircleMembership.learner_id)
        .where(CircleMembership.week == week)
    ).all()


def snapshot(week: str = WEEK):
    db.session.expire_all()
    circles_rows = db.session.execute(
        select(Circle.id, Circle.name, Circle.tier_key, Circle.seq, Circle.goal_target, Circle.goal_completed_at)
        .where(Circle.week == week).order_by(Circle.id)).all()
    members = db.session.execute(
        select(CircleMembership.learner_id, CircleMembership.circle_id, CircleMembership.points)
        .where(CircleMembership.week == week).order_by(CircleMembership.learner_id)).all()
    notes = db.session.scalar(select(func.count(Notification.id)).where(Notification.type == "circle_assigned"))
    return circles_rows, members, notes


def check_assignment(week: str, eligible: list[int], tiers: dict[str, int], target: int = T, minimum: int = M):
    """Assert the §6.1 properties of the week's assignment."""
    rows = memberships(week)
    placed = [r[0] for r in rows]
    assert sorted(placed) == sorted(eligible), "every eligible learner in exactly one circle"
    assert len(placed) == len(set(placed))

    by_circle: dict[int, list] = defaultdict(list)
    for r in rows:
        by_circle[r[1]].append(r)
    sizes = [len(v) for v in by_circle.values()]
    if len(eligible) >= minimum:
        assert all(minimum <= s <= target + minimum - 1 for s in sizes), sizes
        assert all(s < 2 * target for s in sizes)
    elif eligible:
        assert sizes == [len(eligible)], "a population below the minimum forms one circle"

    plans = plan_groups([(t, tiers.get(t, 0)) for t in TIERS], target, minimum)
    group_of = {tier: plan.tier_key for plan in plans for tier in plan.member_tiers}
    registry = load_registry()
    for members in by_circle.values():
        circle_tier = members[0][3]
        for r in members:
            # one tier per circle, except the documented merges of small tiers
            assert group_of[r[5]] == circle_tier
            if len(plans) == len([t for t in TIERS if tiers.get(t, 0)]):
                assert r[5] == circle_tier, "no merge needed → members share the circle's tier"
        seq = members[0][4]
        assert members[0][2] == circle_name(registry.tier(circle_tier).name, seq)
    # sorted by total within the group: circle seq i holds lower totals than seq i+1
    per_group: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per_group[r[3]][r[4]].append(r[6])
    for group, by_seq in per_group.items():
        seqs = sorted(by_seq)
        assert seqs == list(range(len(seqs))), "circles numbered A, B, C … without gaps"
        for a, b in zip(seqs, seqs[1:]):
            assert max(by_seq[a]) <= min(by_seq[b])
        plan = next(p for p in plans if p.tier_key == group)
        assert [len(by_seq[s]) for s in seqs] == list(plan.sizes)
    # goal target = members × goal per member
    for circle_id, members in by_circle.items():
        target_pts = db.session.scalar(select(Circle.goal_target).where(Circle.id == circle_id))
        assert target_pts == len(members) * 100


# ------------------------------------------------------------ pure parts ---

def test_seq_labels_and_names():
    assert [seq_label(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
    assert circle_name("Ember", 2) == "Ember Circle C"
    with pytest.raises(ValueError):
        seq_label(-1)


@pytest.mark.parametrize("n, sizes", [
    (0, []), (1, [1]), (14, [14]), (15, [15]), (25, [25]), (26, [26]), (39, [39]), (40, [25, 15]),
    (50, [25, 25]), (64, [25, 39]), (65, [25, 25, 15]), (1000, [25] * 40),
])
def test_circle_sizes(n, sizes):
    assert circle_sizes(n, T, M) == sizes
    assert circle_count(n, T, M) == len(sizes)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 5000), target=st.integers(1, 60), data=st.data())
def test_circle_sizes_properties(n, target, data):
    minimum = data.draw(st.integers(1, target))
    sizes = circle_sizes(n, target, minimum)
    assert sum(sizes) == n
    if n >= minimum:
        assert all(minimum <= s <= target + minimum - 1 for s in sizes)
    elif n:
        assert sizes == [n]


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(0, 200), min_size=5, max_size=5), target=st.integers(2, 40), data=st.data())
def test_plan_groups_properties(counts, target, data):
    minimum = data.draw(st.integers(1, target))
    plans = plan_groups(list(zip(TIERS, counts)), target, minimum)
    total = sum(counts)
    assert sum(p.size for p in plans) == total
    covered = [t for p in plans for t in p.member_tiers]
    assert covered == [t for t, n in zip(TIERS, counts) if n], "each non-empty tier in exactly one group, in order"
    for p in plans:
        assert p.tier_key in p.member_tiers
        assert sum(p.sizes) == p.size == sum(counts[TIERS.index(t)] for t in p.member_tiers)
        # merged tiers are contiguous on the ladder (among non-empty tiers)
        idx = [covered.index(t) for t in p.member_tiers]
        assert idx == list(range(idx[0], idx[0] + len(idx)))
        if total >= minimum:
            assert p.size >= minimum
    if total >= minimum:
        for t, n in zip(TIERS, counts):
            if n >= minimum:
                assert any(p.tier_key == t for p in plans), f"{t} with {n} learners keeps its own circles"
    elif total:
        assert len(plans) == 1


def test_plan_groups_merge_directions():
    # a small top tier merges down into the next lower non-empty tier, named after it
    plans = plan_groups([("ember", 0), ("spark", 0), ("blaze", 0), ("beacon", 40), ("phoenix", 3)], T, M)
    assert [(p.tier_key, p.member_tiers, p.sizes) for p in plans] == [("beacon", ("beacon", "phoenix"), (25, 18))]
    # cascading: phoenix 3 + beacon 4 both merge into blaze
    plans = plan_groups([("ember", 0), ("spark", 0), ("blaze", 100), ("beacon", 4), ("phoenix", 3)], T, M)
    assert [(p.tier_key, p.member_tiers) for p in plans] == [("blaze", ("blaze", "beacon", "phoenix"))]
    # a small lowest tier merges up into the group above it
    plans = plan_groups([("ember", 5), ("spark", 100), ("blaze", 0), ("beacon", 0), ("phoenix", 0)], T, M)
    assert [(p.tier_key, p.member_tiers, p.size) for p in plans] == [("spark", ("ember", "spark"), 105)]
    # whole population below the minimum: one group named after its lowest tier
    plans = plan_groups([("ember", 5), ("spark", 5), ("blaze", 4), ("beacon", 0), ("phoenix", 0)], T, M)
    assert [(p.tier_key, p.sizes) for p in plans] == [("ember", (14,))]


# ----------------------------------------------------------- assignment ---

POPULATIONS = {
    "empty": {},
    "one": {"ember": 1},
    "fourteen": {"ember": 14},
    "fifteen": {"spark": 15},
    "twenty-six": {"ember": 26},
    "thousand": {"ember": 450, "spark": 300, "blaze": 150, "beacon": 80, "phoenix": 20},
    "few-phoenix": {"beacon": 40, "phoenix": 3},
    "lopsided": {"ember": 100, "spark": 2, "blaze": 1, "phoenix": 7},
    "tiny-bottom": {"ember": 4, "spark": 60},
    "small-tiers": {"ember": 14, "spark": 14},
    "all-small": {"ember": 5, "spark": 5, "blaze": 4},
    "top-only": {"phoenix": 16},
}


@pytest.mark.parametrize("name", list(POPULATIONS))
def test_assignment_properties(app_ctx, name):
    tiers = POPULATIONS[name]
    eligible = add_population(tiers)
    result = assign_circles(WEEK, now=week_start_instant(WEEK))
    assert result["created"] is True
    assert result["learners"] == len(eligible)
    check_assignment(WEEK, eligible, tiers)
    assert result["circles"] == len({r[1] for r in memberships()})
    # one circle_assigned notification per placed learner
    assert result["notified"] == len(eligible)
    notes = db.session.execute(select(Notification.learner_id, Notification.dedupe_key, Notification.title)
                               .where(Notification.type == "circle_assigned")).all()
    assert sorted(n[0] for n in notes) == sorted(eligible)
    assert all(n[1] == f"circle_assigned:{WEEK}:{n[0]:010d}" and n[2].startswith("Meet your Thrive Circle: ")
               for n in notes)
    # membership points start at 0 for the new week (the learners' weekly points belong to no week yet)
    assert all(r[7] == 0 for r in memberships())
    assert db.session.get(CircleWeek, WEEK) is not None

    before = snapshot()
    again = assign_circles(WEEK)
    assert again["created"] is False and again["learners"] == 0 and again["circles"] == 0
    assert snapshot() == before, "re-running the same week changes nothing"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(counts=st.lists(st.integers(0, 60), min_size=5, max_size=5))
def test_assignment_properties_generated(app_ctx, counts):
    db.session.execute(delete(Circle))
    db.session.execute(delete(CircleWeek))
    db.session.execute(delete(Learner))
    db.session.commit()
    tiers = {t: n for t, n in zip(TIERS, counts) if n}
    eligible = add_population(tiers, seed=sum(counts))
    assign_circles(WEEK)
    check_assignment(WEEK, eligible, tiers)
    before = snapshot()
    assign_circles(WEEK)
    assert snapshot() == before


def test_ineligible_learners_are_excluded(app_ctx):
    eligible = add_population({"ember": 20}, days_before=27.9)
    add_population({"ember": 5}, days_before=28.1)                   # last award too long ago
    add_population({"ember": 3}, days_before=-8)                     # only after the week ended
    add_population({"ember": 2}, is_active_account=False)            # deactivated account
    never = Learner(username="never", display_name="Never", timezone="UTC", notification_prefs={},
                    state=LearnerState())                             # no award at all
    db.session.add(never)
    db.session.commit()
    assign_circles(WEEK)
    assert sorted(r[0] for r in memberships()) == sorted(eligible)


def test_circle_assigned_notification_honours_preferences(app_ctx):
    eligible = add_population({"ember": 15})
    off = Learner(username="muted", display_name="Muted", timezone="UTC",
                  notification_prefs={"circle_assigned": False},
                  state=LearnerState(last_award_at=week_start_instant(WEEK) - timedelta(days=1)))
    db.session.add(off)
    db.session.commit()
    result = assign_circles(WEEK)
    assert result["learners"] == 16 and result["notified"] == 15
    assert off.id in {r[0] for r in memberships()}
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.learner_id == off.id)) == 0
    assert sorted(r[0] for r in memberships()) == sorted(eligible + [off.id])


def test_eligibility_window_is_configurable(app):
    app.config["THRIVE_CIRCLE_ELIGIBILITY_DAYS"] = 7
    with app.app_context():
        recent = add_population({"ember": 15}, days_before=6)
        add_population({"ember": 15}, days_before=8)
        assign_circles(WEEK)
        assert sorted(r[0] for r in memberships()) == sorted(recent)


def test_target_and_minimum_are_configurable(app):
    app.config.update(THRIVE_CIRCLE_TARGET_SIZE=10, THRIVE_CIRCLE_MIN_SIZE=4)
    with app.app_context():
        eligible = add_population({"ember": 33, "spark": 3})
        assign_circles(WEEK)
        check_assignment(WEEK, eligible, {"ember": 33, "spark": 3}, target=10, minimum=4)
        assert sorted(c.members for c in list_circles(WEEK)) == [6, 10, 10, 10]


def test_bad_settings_and_weeks_are_rejected(app):
    with app.app_context():
        with pytest.raises(ValidationError) as err:
            assign_circles("2026-53")
        assert err.value.code == "invalid_week"
        with pytest.raises(ValidationError):
            assign_circles("2025-W53")  # 2025 has 52 ISO weeks
    app.config.update(THRIVE_CIRCLE_TARGET_SIZE=10, THRIVE_CIRCLE_MIN_SIZE=11)
    with app.app_context():
        with pytest.raises(ValidationError) as err:
            assign_circles(WEEK)
        assert err.value.code == "invalid_config"
        assert db.session.scalar(select(func.count()).select_from(CircleWeek)) == 0


def test_iso_week_53_rolls_into_next_year(app_ctx):
    assert week_start_instant("2027-W01") - week_start_instant("2026-W53") == timedelta(days=7)
    assert shift_week("2026-W53", 1) == "2027-W01"
    eligible = add_population({"ember": 30, "spark": 20}, week="2026-W53", days_before=2)
    first = assign_circles("2026-W53")
    second = assign_circles("2027-W01")
    assert first["created"] and second["created"]
    assert first["learners"] == second["learners"] == 50
    check_assignment("2026-W53", eligible, {"ember": 30, "spark": 20})
    check_assignment("2027-W01", eligible, {"ember": 30, "spark": 20})
    names_53 = {c.name for c in list_circles("2026-W53")}
    assert names_53 == {c.name for c in list_circles("2027-W01")} == {"Ember Circle A", "Spark Circle A"}
    # separate circles and memberships per week
    ids_53 = {c.id for c in list_circles("2026-W53")}
    assert ids_53.isdisjoint({c.id for c in list_circles("2027-W01")})


# ------------------------------------------------ weekly points & joiners ---

def _active_population(n: int, tier: str = "ember", days_ago: float = 8) -> list[int]:
    """Learners whose last award was ``days_ago`` days ago (eligible this week, no points this week)."""
    now = utcnow()
    week = platform_week(now)
    start = week_start_instant(week)
    return add_population({tier: n}, week=week,
                          days_before=(start - (now - timedelta(days=days_ago))).total_seconds() / 86400)


def _award_in_context(app, learner_id, activity="quiz_completed", **kw):
    """Award in its own app context (as a request or job would): post-commit settling runs at its end."""
    with app.app_context():
        result = award(learner_id, activity, event_key=kw.pop("event_key", f"test:{next(_names)}"), **kw)
        db.session.remove()
    return result


def test_week_points_start_at_zero_and_history_is_kept(app, make_learner):
    week = platform_week(utcnow())
    with app.app_context():
        others = _active_population(20)
        learner = make_learner()
        award(learner.id, "comment_posted", event_key="old", occurred_at=utcnow() - timedelta(days=8))
        assign_circles(week)
        mine = db.session.scalar(select(CircleMembership.points).where(
            CircleMembership.learner_id == learner.id, CircleMembership.week == week))
        assert mine == 0
    _award_in_context(app, learner.id, metadata={"difficulty": "advanced"})   # 50 points
    _award_in_context(app, learner.id, "comment_posted")                       # 5 points
    with app.app_context():
        assert db.session.scalar(select(CircleMembership.points).where(
            CircleMembership.learner_id == learner.id, CircleMembership.week == week)) == 55
        nxt = shift_week(week, 1)
        assign_circles(nxt, now=week_start_instant(nxt))
        rows = dict(db.session.execute(select(CircleMembership.week, CircleMembership.points)
                                       .where(CircleMembership.learner_id == learner.id)).all())
        assert rows == {week: 55, nxt: 0}, "the new week starts at 0; last week's points stay in history"
        assert len(memberships(nxt)) == len(others) + 1


def test_backdated_award_into_closed_week_leaves_history(app, make_learner):
    week = platform_week(utcnow())
    prev = shift_week(week, -1)
    with app.app_context():
        ids = add_population({"ember": 16}, week=prev, days_before=2)
        assign_circles(prev)
        when = week_start_instant(prev) + timedelta(days=2)
    _award_in_context(app, ids[0], occurred_at=when)
    with app.app_context():
        assert db.session.scalar(select(CircleMembership.points).where(CircleMembership.learner_id == ids[0])) == 0


def test_points_before_a_late_assignment_count(app, make_learner):
    """A catch-up run (scheduler was down on Monday) places learners with their points so far."""
    week = platform_week(utcnow())
    learner = make_learner()
    with app.app_context():
        _active_population(15)
    _award_in_context(app, learner.id, metadata={"difficulty": "intermediate"})  # 25 points, before assignment
    with app.app_context():
        assert db.session.scalar(select(func.count(CircleMembership.id))) == 0, "no joining before assignment"
        assign_circles(week)
        assert db.session.scalar(select(CircleMembership.points).where(
            CircleMembership.learner_id == learner.id)) == 25


def test_mid_week_joiner_is_placed_in_a_circle_of_their_tier(app, make_learner):
    week = platform_week(utcnow())
    with app.app_context():
        _active_population(30, "ember")
        _active_population(20, "spark")
        assign_circles(week)
        spark_circle = db.session.scalar(select(Circle.id).where(Circle.week == week, Circle.tier_key == "spark"))
    joiner = make_learner(display_name="New Comer")
    _award_in_context(app, joiner.id, "comment_posted")
    with app.app_context():
        row = db.session.execute(select(Circle.tier_key, CircleMembership.points, Circle.goal_target)
                                 .join(Circle, Circle.id == CircleMembership.circle_id)
                                 .where(CircleMembership.learner_id == joiner.id, CircleMembership.week == week)
                                 ).one()
        assert row.tier_key == "ember" and row.points == 5
        assert row.goal_target == 31 * 100, "goal target grows with the members"
        note = db.session.scalar(select(Notification).where(Notification.learner_id == joiner.id,
                                                             Notification.type == "circle_assigned"))
        assert note is not None and note.dedupe_key == f"circle_assigned:{week}:{joiner.id:010d}"
    # a Spark joiner goes to the Spark circle
    sparky = make_learner()
    _award_in_context(app, sparky.id, "special_event", points=300)
    with app.app_context():
        assert db.session.scalar(select(CircleMembership.circle_id)
                                 .where(CircleMembership.learner_id == sparky.id)) == spark_circle
        assert assign_circles(week)["learners"] == 0, "re-run after joiners: nothing left to place"


def test_joiner_without_own_tier_circle_and_full_circles(app, make_learner):
    app.config.update(THRIVE_CIRCLE_TARGET_SIZE=3, THRIVE_CIRCLE_MIN_SIZE=2)
    week = platform_week(utcnow())
    with app.app_context():
        _active_population(5, "ember")  # one circle of 5 (3 + leftover 2 forms its own → 3, 2)
        assign_circles(week)
        assert sorted(c.members for c in list_circles(week)) == [2, 3]
    # a Phoenix joiner: no Phoenix circle this week → the nearest lower tier with circles (Ember)
    phoenix = make_learner()
    _award_in_context(app, phoenix.id, "admin_adjustment", points=3000, description="test setup")
    with app.app_context():
        assert db.session.scalar(select(Circle.tier_key).join(CircleMembership)
                                 .where(CircleMembership.learner_id == phoenix.id)) == "ember"
    # fill the Ember circles to 2 × target, then a new "Ember Circle C" opens
    joiners = [make_learner() for _ in range(7)]
    for j in joiners:
        _award_in_context(app, j.id, "comment_posted")
    with app.app_context():
        summary = {c.name: c.members for c in list_circles(week)}
        assert summary == {"Ember Circle A": 6, "Ember Circle B": 6, "Ember Circle C": 1}


def test_concurrent_joiners_never_overfill(app, make_learner):
    app.config.update(THRIVE_CIRCLE_TARGET_SIZE=3, THRIVE_CIRCLE_MIN_SIZE=2)
    week = platform_week(utcnow())
    with app.app_context():
        _active_population(3, "ember")
        assign_circles(week)
    joiners = [make_learner() for _ in range(8)]
    barrier = threading.Barrier(len(joiners))

    def join(learner_id):
        barrier.wait()
        return _award_in_context(app, learner_id, "comment_posted")

    with ThreadPoolExecutor(max_workers=len(joiners)) as pool:
        list(pool.map(join, [j.id for j in joiners]))
    with app.app_context():
        rows = list_circles(week)
        assert sum(c.members for c in rows) == 11
        assert all(c.members <= 6 for c in rows), [(c.name, c.members) for c in rows]
        assert len({c.name for c in rows}) == len(rows)
        assert sorted(c.members for c in rows) == [5, 6]


# ------------------------------------------------------------ circle goal ---

def _goal_circle(app, make_learner, n: int = 3):
    """A circle of ``n`` fresh learners (eligible through an award 8 days ago) with target n × 30 points."""
    app.config.update(THRIVE_CIRCLE_TARGET_SIZE=n, THRIVE_CIRCLE_MIN_SIZE=1, THRIVE_CIRCLE_GOAL_PER_MEMBER=30)
    week = platform_week(utcnow())
    people = [make_learner(display_name=f"Goal {i}") for i in range(n)]
    for p in people:
        _award_in_context(app, p.id, "comment_posted", occurred_at=utcnow() - timedelta(days=8))
    with app.app_context():
        assign_circles(week)
        circle = db.session.scalar(select(Circle).where(Circle.week == week))
        assert circle.goal_target == n * 30
        return week, circle.id, [p.id for p in people]


def _bonus_entries(circle_id=None):
    q = select(LedgerEntry.learner_id, LedgerEntry.points, LedgerEntry.event_key).where(
        LedgerEntry.activity_type == "circle_goal_completed")
    return sorted(db.session.execute(q).all())


def test_circle_goal_completes_once_and_awards_only_contributors(app, make_learner):
    week, circle_id, (a, b, c) = _goal_circle(app, make_learner)
    _award_in_context(app, a, metadata={"difficulty": "advanced"})   # 50 of 90
    with app.app_context():
        assert db.session.get(Circle, circle_id).goal_completed_at is None
        assert _bonus_entries() == []
    _award_in_context(app, b, metadata={"difficulty": "advanced"})   # 100 ≥ 90 → reached
    with app.app_context():
        completed_at = db.session.get(Circle, circle_id).goal_completed_at
        assert completed_at is not None
        assert _bonus_entries() == [(a, 50, f"circle_goal:{circle_id}:{a}"), (b, 50, f"circle_goal:{circle_id}:{b}")]
        for who in (a, b):
            note = db.session.scalar(select(Notification).where(Notification.learner_id == who,
                                                                Notification.type == "circle_goal_completed"))
            assert note is not None and note.dedupe_key == f"circle_goal:{circle_id}:{who}"
            assert db.session.scalar(select(func.count(Celebration.id)).where(
                Celebration.learner_id == who, Celebration.kind == "circle_goal")) == 1
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.learner_id == c, Notification.type == "circle_goal_completed")) == 0
    # more points, catch-up settles: nothing twice, completion time unchanged
    _award_in_context(app, a, "comment_posted")
    with app.app_context():
        assert settle_circle_goals(week)["awarded"] == 0
        assert db.session.get(Circle, circle_id).goal_completed_at == completed_at
        assert len(_bonus_entries()) == 2
        assert db.session.scalar(select(func.count(Celebration.id)).where(Celebration.kind == "circle_goal")) == 2
    # a member who takes part after the goal was reached has contributed too (points > 0 that week)
    _award_in_context(app, c, "comment_posted")
    with app.app_context():
        assert [e[0] for e in _bonus_entries()] == sorted([a, b, c])


def test_goal_bonus_is_configurable(app, make_learner):
    app.config["THRIVE_CIRCLE_GOAL_BONUS"] = 80
    week, circle_id, (a, b) = _goal_circle(app, make_learner, n=2)
    _award_in_context(app, a, "special_event", points=100)
    with app.app_context():
        assert _bonus_entries() == [(a, 80, f"circle_goal:{circle_id}:{a}")]


def test_settle_catches_up_when_post_commit_was_missed(app, make_learner, monkeypatch):
    week, circle_id, (a, b, c) = _goal_circle(app, make_learner)
    with app.app_context():
        with monkeypatch.context() as m:   # simulate a crash between the commit and the settlement step
            m.setattr(goal, "settle_circle_goals", _crash)
            award(a, "special_event", event_key="big", points=100)
        assert _bonus_entries() == []
    with app.app_context():
        assert db.session.get(Circle, circle_id).goal_completed_at is not None
        assert _bonus_entries() == []
        result = settle_circle_goals(week)
        assert result["awarded"] == 1 and result["points"] == 50
        assert settle_circle_goals(week)["awarded"] == 0


def test_concurrent_contributors_complete_the_goal_exactly_once(app, make_learner):
    week, circle_id, people = _goal_circle(app, make_learner, n=6)   # target 180
    barrier = threading.Barrier(len(people))

    def go(learner_id):
        barrier.wait()
        return _award_in_context(app, learner_id, metadata={"difficulty": "advanced"})   # 6 × 50 = 300

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        list(pool.map(go, people))
    with app.app_context():
        settle_circle_goals(week)
        assert db.session.get(Circle, circle_id).goal_completed_at is not None
        entries = _bonus_entries()
        assert sorted(e[0] for e in entries) == sorted(people)
        assert Counter(e[2] for e in entries).most_common(1)[0][1] == 1


# ------------------------------------------------------------------- CLI ---

def test_cli_assign_and_list(app, runner):
    with app.app_context():
        add_population({"ember": 30, "beacon": 20})
    result = runner.invoke(args=["thrive", "assign-circles", "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert f"{WEEK}: placed 50 learners in 2 circles" in result.output
    result = runner.invoke(args=["thrive", "assign-circles", "--week", WEEK])
    assert result.exit_code == 0 and "already assigned: nothing to do" in result.output
    result = runner.invoke(args=["thrive", "circles", "--week", WEEK])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].split() == ["Ember", "Circle", "A", "Ember", "30", "members"]
    assert lines[1].split() == ["Beacon", "Circle", "A", "Beacon", "20", "members"]
    assert lines[-1] == f"2 circles, 50 members in {WEEK}."


def test_cli_defaults_to_current_week_and_rejects_bad_weeks(app, runner):
    result = runner.invoke(args=["thrive", "circles"])
    assert result.exit_code == 0 and f"No circles for {platform_week(utcnow())}" in result.output
    result = runner.invoke(args=["thrive", "assign-circles"])
    assert result.exit_code == 0 and platform_week(utcnow()) in result.output
    for bad in ("2026-53", "2025-W53", "next"):
        result = runner.invoke(args=["thrive", "assign-circles", "--week", bad])
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--week'" in result.output
    result = runner.invoke(args=["thrive", "circles", "--week", "W05"])
    assert result.exit_code == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CircleWeek)) == 1


def test_hourly_streak_job_settles_missed_circle_goal_bonuses(app, make_learner, monkeypatch):
    """The scheduler's hourly job is the catch-up for circle goal bonuses interrupted after commit."""
    from thrive.jobs import hour_period, streaks_job

    week, circle_id, (a, b, c) = _goal_circle(app, make_learner)
    with app.app_context(), monkeypatch.context() as m:   # crash before the settlement step
        m.setattr(goal, "settle_circle_goals", _crash)
        award(a, "special_event", event_key="big-hourly", points=100)
    with app.app_context():
        assert _bonus_entries() == []
        counts = streaks_job(hour_period(utcnow()))
        assert counts["circle_goal_bonuses"] == 1
        assert _bonus_entries() == [(a, 50, f"circle_goal:{circle_id}:{a}")]
        assert streaks_job(hour_period(utcnow()))["circle_goal_bonuses"] == 0


def test_award_during_a_running_assignment_waits_and_counts(app, make_learner, monkeypatch):
    """An award to a non-member while the week's assignment runs waits for it, then adds its points to the
    membership the assignment made (PostgreSQL: the shared advisory lock taken by the membership update)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite serialises writers: no assignment runs beside an award")
    from thrive.services.weekly.circles import assignment

    week = platform_week(utcnow())
    with app.app_context():
        _active_population(3, "ember")
        learner_id = _active_population(1, "ember", days_ago=9)[0]
    inside, release = threading.Event(), threading.Event()
    original = assignment._bulk_assign

    def paused(*args, **kwargs):
        inside.set()  # the week's exclusive advisory lock is held from here until the commit
        assert release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(assignment, "_bulk_assign", paused)

    def run_assignment():
        with app.app_context():
            assign_circles(week)
            db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assigning = pool.submit(run_assignment)
        assert inside.wait(30)
        awarding = pool.submit(_award_in_context, app, learner_id, "comment_posted")
        time.sleep(0.5)
        assert not awarding.done(), "the award waits for the running assignment"
        release.set()
        assigning.result(timeout=30)
        assert awarding.result(timeout=30).points_awarded == 5
    with app.app_context():
        assert db.session.scalar(select(CircleMembership.points)
                                 .where(CircleMembership.learner_id == learner_id,
                                        CircleMembership.week == week)) == 5
