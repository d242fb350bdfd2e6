"""Side quests (§10): gating, start, progress inside the award transaction, completion once, windows, chains."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Celebration, LearnerQuest, LedgerEntry, Notification
from thrive.services.errors import Conflict, NotFound, ValidationError
from thrive.services.points.award import award
from thrive.services.points.verify import verify
from thrive.services.quests import catalog
from thrive.services.quests.board import active_quests, quest_board
from thrive.services.quests.progress import start_quest

MON = datetime(2026, 11, 2, 12, tzinfo=UTC)  # Monday of 2026-W45 (platform time UTC)


def at(days: float = 0, minutes: int = 0) -> datetime:
    return MON + timedelta(days=days, minutes=minutes)


_keys = iter(range(10**6))


def give(learner_id: int, activity: str = "quiz_completed", when: datetime | None = None, **kw):
    when = when or at()
    return award(learner_id, activity, event_key=f"t:{next(_keys)}", occurred_at=when,
                 now=when + timedelta(seconds=1), **kw)


def quiet(learner):
    """Switch the learner's side_quest_available notifications off."""
    from thrive.models import Learner
    row = db.session.get(Learner, learner.id)
    row.notification_prefs = {"side_quest_available": False}
    db.session.commit()
    return learner


def make_quest(key: str = "quest", *, publish: bool = True, now: datetime | None = None, **values):
    values = {"key": key, "title": key.title(), "activity_type": "quiz_completed", "target": 3, **values}
    quest = catalog.create_quest(values, now=now or at(-30))
    if publish:
        _before, quest = catalog.set_status(quest.id, "published", now=now or at(-30))
    return quest


def run_of(learner_id: int, quest_id: int) -> LearnerQuest | None:
    db.session.expire_all()
    return db.session.scalar(select(LearnerQuest).where(LearnerQuest.learner_id == learner_id,
                                                        LearnerQuest.quest_id == quest_id)
                             .order_by(LearnerQuest.id.desc()))


def completions(learner_id: int) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type == "side_quest_completed")))


def test_reward_defaults_by_difficulty_and_bad_input_is_refused(app_ctx):
    assert make_quest("qa", difficulty="beginner").reward == 50
    assert make_quest("qb", difficulty="intermediate").reward == 100
    assert make_quest("qc", difficulty="advanced").reward == 200
    with pytest.raises(ValidationError):
        make_quest("qd", activity_type="no_such_type")
    with pytest.raises(ValidationError):
        make_quest("qe", target=0)
    with pytest.raises(ValidationError):
        make_quest("qf", available_from=at(2), available_until=at(1))
    with pytest.raises(ValidationError):
        make_quest("qa")  # key taken


def test_quest_gating_by_tier(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest("blaze-only", min_tier="blaze")
    board = quest_board(learner, at())
    assert [c.quest.key for c in board.locked] == ["blaze-only"]
    assert board.locked[0].lock == "tier" and board.locked[0].unlock_tier.key == "blaze"
    with pytest.raises(Conflict) as err:
        start_quest(learner.id, quest.id, now=at())
    assert err.value.code == "quest_locked"
    give(learner.id, "special_event", at(-1), points=600)  # 600 points → Blaze
    # the tier-up unlocked it: a side_quest_available notification
    notes = db.session.scalars(select(Notification).where(Notification.learner_id == learner.id,
                                                          Notification.type == "side_quest_available")).all()
    assert [n.data["quest_id"] for n in notes] == [quest.id]
    db.session.expire_all()
    from thrive.models import Learner
    learner = db.session.get(Learner, learner.id)
    assert [c.quest.key for c in quest_board(learner, at()).available] == ["blaze-only"]
    start_quest(learner.id, quest.id, now=at())


def test_tier_unlock_notification_respects_preferences(app_ctx, make_learner):
    learner = quiet(make_learner())
    make_quest("spark-q", min_tier="spark")
    give(learner.id, "special_event", at(-1), points=300)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.type == "side_quest_available")) == 0


def test_progress_counts_only_activity_after_the_start(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest()
    give(learner.id, when=at(-1))                       # before the start: ignored
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, when=at(minutes=-5))               # back-dated before the start: ignored
    assert run_of(learner.id, quest.id).progress == 0
    give(learner.id, when=at(minutes=5))
    give(learner.id, when=at(minutes=6))
    run = run_of(learner.id, quest.id)
    assert run.progress == 2 and run.completed_at is None
    assert [(c.progress, c.target) for c in active_quests(learner.id, at(minutes=10))] == [(2, 3)]
    give(learner.id, when=at(minutes=7))
    run = run_of(learner.id, quest.id)
    assert run.progress == 3 and run.completed_at is not None
    [entry] = completions(learner.id)
    assert entry.points == 50 and entry.event_key == f"quest:{quest.id}:{learner.id}:once"
    assert run.ledger_entry_id == entry.id
    assert db.session.scalar(select(func.count()).select_from(Celebration).where(
        Celebration.learner_id == learner.id, Celebration.kind == "side_quest")) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.learner_id == learner.id, Notification.type == "side_quest_completed")) == 1
    give(learner.id, when=at(minutes=8))                # after completion: nothing more
    assert len(completions(learner.id)) == 1
    with pytest.raises(Conflict) as err:
        start_quest(learner.id, quest.id, now=at(1))
    assert err.value.code == "already_completed"
    assert verify(now=at(1)) == []


def test_topic_filter_and_other_activity_types(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest(target=2, topic_filter="Python")
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, when=at(minutes=1), metadata={"topic": "SQL"})
    give(learner.id, "comment_posted", at(minutes=2), metadata={"topic": "Python"})
    give(learner.id, when=at(minutes=3))                             # no topic
    assert run_of(learner.id, quest.id).progress == 0
    give(learner.id, when=at(minutes=4), metadata={"topic": " python "})
    give(learner.id, when=at(minutes=5), metadata={"topic": "Python"})
    assert run_of(learner.id, quest.id).completed_at is not None


def test_capped_awards_do_not_count(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest(activity_type="daily_login", target=2)
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, "daily_login", at(minutes=1))
    give(learner.id, "daily_login", at(minutes=2))  # capped (1/day)
    assert run_of(learner.id, quest.id).progress == 1


def test_a_weekly_quest_repeats_next_week(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest(repeat="weekly", target=1, difficulty="intermediate")
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, when=at(minutes=1))
    assert run_of(learner.id, quest.id).completed_at is not None
    with pytest.raises(Conflict):
        start_quest(learner.id, quest.id, now=at(2))          # same week: done
    run = start_quest(learner.id, quest.id, now=at(7))        # next Monday: a new run
    assert run.period == "2026-W46"
    give(learner.id, when=at(6, minutes=-1))                  # last week's activity: not this run
    assert run_of(learner.id, quest.id).progress == 0
    give(learner.id, when=at(7, minutes=1))
    keys = sorted(e.event_key for e in completions(learner.id))
    assert keys == [f"quest:{quest.id}:{learner.id}:2026-W45", f"quest:{quest.id}:{learner.id}:2026-W46"]
    assert all(e.points == 100 for e in completions(learner.id))


def test_a_weekly_run_ends_with_its_week(app_ctx, make_learner):
    learner = make_learner()
    quest = make_quest(repeat="weekly", target=2)
    start_quest(learner.id, quest.id, now=at())
    give(learner.id, when=at(minutes=1))
    give(learner.id, when=at(7, minutes=1))                   # next week: the old run does not move
    assert run_of(learner.id, quest.id).progress == 1
    assert active_quests(learner.id, at(7, minutes=2)) == []


def test_a_chain_unlocks_its_successor(app_ctx, make_learner):
    learner = make_learner()
    first = make_quest("first", target=1)
    second = make_quest("second", target=1, prerequisite_id=first.id)
    board = quest_board(learner, at())
    assert [(c.quest.key, c.lock) for c in board.locked] == [("second", "prerequisite")]
    with pytest.raises(Conflict):
        start_quest(learner.id, second.id, now=at())
    start_quest(learner.id, first.id, now=at())
    give(learner.id, when=at(minutes=1))
    notes = db.session.scalars(select(Notification).where(Notification.learner_id == learner.id,
                                                          Notification.type == "side_quest_available")).all()
    assert [n.data["quest_id"] for n in notes] == [second.id]
    from thrive.models import Learner
    board = quest_board(db.session.get(Learner, learner.id), at(minutes=2))
    assert [c.quest.key for c in board.available] == ["second"]
    assert [c.quest.key for c in board.completed] == ["first"]
    start_quest(learner.id, second.id, now=at(minutes=2))
    with pytest.raises(ValidationError):
        catalog.update_quest(first.id, {"prerequisite_id": second.id})  # a cycle


def test_a_quest_outside_its_window_neither_starts_nor_progresses(app_ctx, make_learner):
    learner = make_learner()
    later = make_quest("later", available_from=at(1))
    ending = make_quest("ending", target=2, available_until=at(minutes=30))
    with pytest.raises(Conflict) as err:
        start_quest(learner.id, later.id, now=at())
    assert err.value.code == "quest_closed"
    start_quest(learner.id, ending.id, now=at())
    give(learner.id, when=at(minutes=10))
    give(learner.id, when=at(minutes=40))                     # after the window: no progress
    run = run_of(learner.id, ending.id)
    assert run.progress == 1 and run.completed_at is None
    with pytest.raises(Conflict) as err:
        start_quest(learner.id, ending.id, now=at(1))
    assert err.value.code in ("quest_closed", "already_started")
    board = quest_board(learner, at(1))
    assert [c.quest.key for c in board.locked] == []        # "later" is open by then
    assert "ending" not in [c.quest.key for c in board.in_progress + board.available]


def test_drafts_and_retired_quests_cannot_be_started_nor_progress(app_ctx, make_learner):
    learner = make_learner()
    draft = make_quest("draft", publish=False)
    with pytest.raises(NotFound):
        start_quest(learner.id, draft.id, now=at())
    live = make_quest("live", target=2)
    start_quest(learner.id, live.id, now=at())
    catalog.set_status(live.id, "retired", now=at(minutes=1))
    give(learner.id, when=at(minutes=2))
    assert run_of(learner.id, live.id).progress == 0


def test_publishing_notifies_active_learners_who_can_start_it(app_ctx, make_learner):
    active = make_learner()
    silent = quiet(make_learner())
    dormant = make_learner()
    for who in (active, silent):
        give(who.id, "comment_posted", at(-1))
    give(dormant.id, "comment_posted", at(-60))
    quest = make_quest("fresh", publish=False)
    catalog.set_status(quest.id, "published", now=at())
    rows = db.session.execute(select(Notification.learner_id).where(
        Notification.type == "side_quest_available")).scalars().all()
    assert rows == [active.id]
    catalog.set_status(quest.id, "draft", now=at())
    catalog.set_status(quest.id, "published", now=at())       # again: no second notification
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.type == "side_quest_available")) == 1


def test_completion_is_capped_by_the_daily_cap(app_ctx, make_learner):
    learner = make_learner()
    quests = [make_quest(f"q{i}", target=1) for i in range(6)]
    for q in quests:
        start_quest(learner.id, q.id, now=at())
    give(learner.id, when=at(minutes=1))
    entries = completions(learner.id)
    assert len(entries) == 6
    assert sorted(e.capped for e in entries) == [False] * 5 + [True]
    assert verify(now=at(1)) == []


def test_completion_exactly_once_under_20_concurrent_matching_awards(app, make_learner):
    learner = make_learner()
    with app.app_context():
        quest = make_quest(target=3)
        start_quest(learner.id, quest.id, now=at())
    barrier = threading.Barrier(20)
    when = datetime.now(UTC) - timedelta(minutes=5)

    def one(i: int):
        with app.app_context():
            try:
                barrier.wait()
                return award(learner.id, "quiz_completed", event_key=f"race:{i}", occurred_at=when).points_awarded
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(one, range(20)))
    with app.app_context():
        run = run_of(learner.id, quest.id)
        assert run.progress == 3 and run.completed_at is not None
        assert len(completions(learner.id)) == 1
        assert db.session.scalar(select(func.count()).select_from(Celebration).where(
            Celebration.kind == "side_quest")) == 1
        assert verify() == []
