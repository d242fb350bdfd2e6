"""Achievements (§10): each criterion kind, grant once (also under concurrency), rarity, secrets, backfill."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Celebration, Learner, LearnerAchievement, LedgerEntry, Notification
from thrive.services.achievements import catalog
from thrive.services.achievements.backfill import backfill
from thrive.services.achievements.grants import revoke, set_visibility
from thrive.services.achievements.reading import (
    achievement_board,
    earned_for_api,
    profile_badges,
    rarities,
    rarity_from_counts,
)
from thrive.services.errors import NotFound, ValidationError
from thrive.services.points.award import award
from thrive.services.points.verify import verify
from thrive.services.quests import catalog as quest_catalog
from thrive.services.quests.progress import start_quest

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
_keys = iter(range(10**6))


def at(days: float = 0, minutes: int = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def give(learner_id: int, activity: str = "quiz_completed", when: datetime | None = None, **kw):
    when = when or at()
    return award(learner_id, activity, event_key=f"t:{next(_keys)}", occurred_at=when,
                 now=when + timedelta(seconds=1), **kw)


def make(key: str, criteria: dict, **values):
    values = {"key": key, "name": key.replace("-", " ").title(), "criteria_text": f"Do {key}",
              "criteria": criteria, "reward": 25, **values}
    return catalog.create_achievement(values)


def held(learner_id: int) -> dict[str, LearnerAchievement]:
    db.session.expire_all()
    keys = {a.id: a.key for a in catalog.all_achievements()}
    return {keys[r.achievement_id]: r for r in db.session.scalars(
        select(LearnerAchievement).where(LearnerAchievement.learner_id == learner_id))}


def rewards(learner_id: int) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type == "achievement_earned")))


def test_counter_criterion_first_quiz_grants_once_with_reward_celebration_and_notification(app_ctx, make_learner):
    learner = make_learner()
    make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1}, reward=40)
    give(learner.id, when=at())
    give(learner.id, when=at(minutes=5))
    rows = held(learner.id)
    assert list(rows) == ["first-quiz"]
    assert rows["first-quiz"].granted_at.replace(tzinfo=UTC) == at()
    [entry] = rewards(learner.id)
    assert entry.points == 40 and entry.meta["achievement"] == "first-quiz"
    assert rows["first-quiz"].ledger_entry_id == entry.id
    assert db.session.scalar(select(func.count()).select_from(Celebration).where(
        Celebration.kind == "achievement")) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.type == "achievement_earned")) == 1
    assert verify(now=at(1)) == []


@pytest.mark.parametrize("criteria, steps", [
    ({"kind": "activity_count", "activity_type": "feedback_given", "target": 2},
     [("feedback_given", {}), ("comment_posted", {}), ("feedback_given", {})]),
    ({"kind": "points", "target": 30}, [("comment_posted", {})] * 6),
    ({"kind": "level", "target": 2}, [("comment_posted", {})] * 10),
    ({"kind": "tier", "tier": "spark"}, [("special_event", {"points": 100})] * 3),
    ({"kind": "circle_goals", "target": 1}, [("circle_goal_completed", {"points": 50})]),
    ({"kind": "counter", "counter": "comments_posted", "target": 3}, [("comment_posted", {})] * 3),
])
def test_each_criterion_kind_becomes_true_on_the_award_that_crosses_it(app_ctx, make_learner, criteria, steps):
    learner = make_learner()
    make("badge", criteria)
    for i, (activity, kw) in enumerate(steps):
        assert "badge" not in held(learner.id), f"granted too early, before step {i}"
        give(learner.id, activity, at(minutes=i), **kw)
    rows = held(learner.id)
    assert "badge" in rows and rows["badge"].granted_at.replace(tzinfo=UTC) == at(minutes=len(steps) - 1)
    assert len(rewards(learner.id)) == 1
    assert verify(now=at(1)) == []


def test_streak_criterion(app_ctx, make_learner):
    learner = make_learner()
    make("three-days", {"kind": "streak", "target": 3})
    give(learner.id, "comment_posted", at(0))
    give(learner.id, "comment_posted", at(1))
    give(learner.id, "comment_posted", at(1, 5))
    assert held(learner.id) == {}
    give(learner.id, "comment_posted", at(2))
    assert held(learner.id)["three-days"].granted_at.replace(tzinfo=UTC) == at(2)
    give(learner.id, "comment_posted", at(3))
    assert len(rewards(learner.id)) == 1


def test_quests_criterion(app_ctx, make_learner):
    learner = make_learner()
    make("adventurer", {"kind": "quests", "target": 1})
    quest = quest_catalog.create_quest({"key": "one-quiz", "title": "One quiz", "activity_type": "quiz_completed",
                                        "target": 1}, now=at(-1))
    quest_catalog.set_status(quest.id, "published", now=at(-1))
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, when=at(minutes=1))
    assert "adventurer" in held(learner.id)
    types = sorted(e.activity_type for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.learner_id == learner.id)))
    assert types == ["achievement_earned", "quiz_completed", "side_quest_completed"]
    assert verify(now=at(1)) == []


def test_a_reward_that_crosses_another_threshold_grants_that_one_too(app_ctx, make_learner):
    learner = make_learner()
    make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1}, reward=100)
    make("hundred", {"kind": "points", "target": 100})
    give(learner.id, when=at())            # 20 points + 100 reward → crosses 100
    assert set(held(learner.id)) == {"first-quiz", "hundred"}


def test_retired_achievements_are_not_granted(app_ctx, make_learner):
    learner = make_learner()
    ach = make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1})
    catalog.set_status(ach.id, "retired")
    give(learner.id)
    assert held(learner.id) == {}


def test_no_double_grant_under_concurrency(app, make_learner):
    learner = make_learner()
    with app.app_context():
        make("cheery", {"kind": "activity_count", "activity_type": "comment_posted", "target": 1})
        make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1})
    barrier = threading.Barrier(20)
    now = datetime.now(UTC)

    def one(i: int):
        with app.app_context():
            try:
                barrier.wait()
                if i == 0:
                    return backfill().granted
                kind = "quiz_completed" if i % 2 else "comment_posted"
                award(learner.id, kind, event_key=f"race:{i}", occurred_at=now - timedelta(minutes=i))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(one, range(20)))
    with app.app_context():
        assert sorted(held(learner.id)) == ["cheery", "first-quiz"]
        assert db.session.scalar(select(func.count()).select_from(LearnerAchievement)) == 2
        assert len(rewards(learner.id)) <= 2
        assert verify() == []


def test_rarity_arithmetic():
    assert rarity_from_counts(1, 2) is None                  # fewer than 3 active learners: no aggregate
    assert rarity_from_counts(1, 4).percent == 25
    assert rarity_from_counts(1, 3).percent == 33
    assert rarity_from_counts(2, 3).percent == 67
    r = rarity_from_counts(1, 250)
    assert r.percent == 0 and r.under_one
    assert rarity_from_counts(0, 10).percent == 0 and not rarity_from_counts(0, 10).under_one
    assert rarity_from_counts(5, 200).percent == 3           # 2.5 rounds half up


def test_rarity_counts_active_learners_only(app_ctx, make_learner):
    ach = make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1})
    now = datetime.now(UTC)
    people = [make_learner() for _ in range(4)]
    give(people[0].id, when=now - timedelta(days=1))        # holder, active
    for p in people[1:]:
        give(p.id, "comment_posted", now - timedelta(days=1))
    dormant = make_learner()
    give(dormant.id, when=now - timedelta(days=60))         # holder, not active
    staff = make_learner(is_admin=True)
    give(staff.id, when=now - timedelta(days=1))            # staff: never counted
    r = rarities(now)[ach.id]
    assert (r.holders, r.active, r.percent) == (1, 4, 25)


def test_secret_achievements_are_hidden_until_earned(app_ctx, make_learner):
    owner, other = make_learner(), make_learner()
    make("secret", {"kind": "counter", "counter": "comments_posted", "target": 2}, secret=True, name="Hidden Gem")
    give(owner.id, "comment_posted", at())
    board = achievement_board(owner.id, at(1))
    assert [c.state for c in board.secret] == ["secret"] and board.secret[0].hidden
    assert board.in_progress == [] and board.earned == []
    assert profile_badges(owner.id) == []
    give(owner.id, "comment_posted", at(minutes=1))
    board = achievement_board(owner.id, at(1))
    assert [c.achievement.name for c in board.earned] == ["Hidden Gem"] and board.secret == []
    assert [b.achievement.name for b in profile_badges(owner.id)] == ["Hidden Gem"]
    assert [c.state for c in achievement_board(other.id, at(1)).secret] == ["secret"]


def test_progress_toward_unearned_achievements(app_ctx, make_learner):
    learner = make_learner()
    make("ten-quizzes", {"kind": "counter", "counter": "quizzes_completed", "target": 10})
    make("feedback", {"kind": "activity_count", "activity_type": "feedback_given", "target": 5})
    make("blaze", {"kind": "tier", "tier": "blaze"})
    for i in range(7):
        give(learner.id, when=at(minutes=i))
    board = achievement_board(learner.id, at(1))
    progress = {c.achievement.key: (c.progress, c.target) for c in board.in_progress + board.locked}
    assert progress == {"ten-quizzes": (7, 10), "feedback": (0, 5), "blaze": (140, 500)}
    assert [c.achievement.key for c in board.locked] == ["feedback"]


def test_backfill_dates_the_crossing_and_is_quiet(app_ctx, make_learner):
    learner = make_learner()
    for i in range(5):
        give(learner.id, when=at(i))
    give(learner.id, "comment_posted", at(5))
    before_entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    before_notes = db.session.scalar(select(func.count()).select_from(Notification))
    before_celebrations = db.session.scalar(select(func.count()).select_from(Celebration))
    make("three-quizzes", {"kind": "counter", "counter": "quizzes_completed", "target": 3})
    make("hundred", {"kind": "points", "target": 100})
    make("streak-4", {"kind": "streak", "target": 4})
    make("ten-quizzes", {"kind": "counter", "counter": "quizzes_completed", "target": 10})
    summary = backfill()
    assert summary.granted == 3 and summary.by_achievement == {"three-quizzes": 1, "hundred": 1, "streak-4": 1}
    rows = held(learner.id)
    assert rows["three-quizzes"].granted_at.replace(tzinfo=UTC) == at(2)   # the third quiz
    assert rows["hundred"].granted_at.replace(tzinfo=UTC) == at(4)         # 5 × 20 points
    assert rows["streak-4"].granted_at.replace(tzinfo=UTC) == at(3)        # fourth day in a row
    assert all(r.source == "backfill" for r in rows.values())
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before_entries
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before_notes
    assert db.session.scalar(select(func.count()).select_from(Celebration)) == before_celebrations
    assert backfill().granted == 0
    assert verify(now=at(6)) == []


def test_backfill_uses_time_order_for_back_dated_entries(app_ctx, make_learner):
    learner = make_learner()
    give(learner.id, when=at(3))
    give(learner.id, when=at(1))            # written later, happened earlier
    make("two-quizzes", {"kind": "counter", "counter": "quizzes_completed", "target": 2})
    backfill()
    assert held(learner.id)["two-quizzes"].granted_at.replace(tzinfo=UTC) == at(3)


def test_revocation_needs_a_reason_and_is_never_regranted(app_ctx, make_learner):
    learner, staff = make_learner(), make_learner(is_admin=True)
    ach = make("first-quiz", {"kind": "counter", "counter": "quizzes_completed", "target": 1})
    give(learner.id)
    with pytest.raises(ValidationError):
        revoke(learner.id, ach.id, actor=staff, reason="  ")
    change = revoke(learner.id, ach.id, actor=staff, reason="awarded by a bug", now=at(1))
    assert change["after"]["reason"] == "awarded by a bug"
    row = held(learner.id)["first-quiz"]
    assert row.revoked_at is not None and row.revoked_by == staff.id
    from thrive.models import AuditEntry
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "achievement.revoke")).all()
    assert entry.actor_id == staff.id and entry.after["reason"] == "awarded by a bug"
    assert backfill().granted == 0
    assert earned_for_api(learner.id) == [] and profile_badges(learner.id) == []
    with pytest.raises(NotFound):
        revoke(learner.id, ach.id, actor=staff, reason="again")


def test_featured_and_private_badges(app_ctx, make_learner):
    learner = make_learner()
    ids = []
    for i in range(5):
        ids.append(make(f"c{i}", {"kind": "counter", "counter": "comments_posted", "target": i + 1}).id)
    for i in range(5):
        give(learner.id, "comment_posted", at(minutes=i))
    for aid in ids[:3]:
        set_visibility(learner.id, aid, "featured")
    with pytest.raises(ValidationError) as err:
        set_visibility(learner.id, ids[3], "featured")
    assert err.value.code == "too_many_featured"
    set_visibility(learner.id, ids[4], "private")
    badges = profile_badges(learner.id)
    assert [b.achievement.key for b in badges][:3] == ["c2", "c1", "c0"] and all(b.featured for b in badges[:3])
    assert "c4" not in [b.achievement.key for b in badges]
    assert {e["key"]: e["visibility"] for e in earned_for_api(learner.id)}["c4"] == "private"


def test_seeded_defaults_are_idempotent_and_keep_admin_edits(app_ctx):
    first = catalog.seed_achievements()
    assert first >= 15
    ach = next(a for a in catalog.all_achievements() if a.key == "first-quiz")
    catalog.update_achievement(ach.id, {"name": "My First Quiz", "reward": 30})
    assert catalog.seed_achievements() == 0
    assert next(a for a in catalog.all_achievements() if a.key == "first-quiz").name == "My First Quiz"
    assert quest_catalog.seed_quests() >= 3 and quest_catalog.seed_quests() == 0
    assert db.session.get(Learner, 1) is None  # seeding creates no learners
