"""The first-run checklist (§7, issue 11) and its per-app memory of finished learners (issue 12)."""
from __future__ import annotations

from sqlalchemy import event, func, select

from thrive import create_app
from thrive.extensions import db
from thrive.models import Cheer, Circle, CircleMembership, Follow, Learner, LedgerEntry
from thrive.services.accounts.onboarding import STEPS, onboarding
from thrive.timeutil import platform_week, utcnow


def _count_statements(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def _finish_every_step(learner_id: int, other_id: int) -> None:
    circle = Circle(week=platform_week(utcnow()), tier_key="ember", name="Test circle", goal_target=100)
    db.session.add(circle)
    db.session.flush()
    db.session.add_all([
        Follow(follower_id=learner_id, followed_id=other_id),
        Cheer(cheerer_id=learner_id, recipient_id=other_id, target_kind="entry", target_id=1),
        CircleMembership(circle_id=circle.id, learner_id=learner_id, week=circle.week),
    ])
    db.session.commit()


def _entries(learner_id: int, activity_type: str) -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type == activity_type))


def test_checklist_pays_once_and_is_then_answered_without_a_query(app_ctx, make_learner):
    learner = make_learner(timezone="Europe/Madrid", topics=["Python"])
    other = make_learner()
    me = db.session.get(Learner, learner.id)
    first = onboarding(me)
    assert first.done == {"profile": True, "follow": False, "cheer": False, "circle": False}
    assert not first.completed and first.remaining == 3
    assert _entries(learner.id, "profile_completed") == 1

    _finish_every_step(learner.id, other.id)
    finished = onboarding(db.session.get(Learner, learner.id))
    assert finished.completed and finished.remaining == 0
    assert _entries(learner.id, "onboarding_completed") == 1

    seen, stop = _count_statements(db.engine)
    try:
        again = onboarding(db.session.get(Learner, learner.id))
    finally:
        stop()
    assert again.completed and set(again.done) == set(STEPS)
    assert not [s for s in seen if "ledger_entries" in s]  # the finished learner is remembered: no checklist read
    assert _entries(learner.id, "onboarding_completed") == 1


def test_a_learner_not_finished_is_read_every_time(app_ctx, make_learner):
    learner = make_learner()
    onboarding(db.session.get(Learner, learner.id))
    seen, stop = _count_statements(db.engine)
    try:
        state = onboarding(db.session.get(Learner, learner.id))
    finally:
        stop()
    assert not state.completed
    assert [s for s in seen if "ledger_entries" in s]


def test_the_memory_belongs_to_one_app(app, app_config, make_learner):
    """Another app (another database in tests, another worker in production) reads for itself."""
    learner = make_learner(timezone="Europe/Madrid", topics=["Python"])
    other = make_learner()
    with app.app_context():
        _finish_every_step(learner.id, other.id)
        assert onboarding(db.session.get(Learner, learner.id)).completed
        assert learner.id in app.extensions["thrive.onboarding_finished"]
    second = create_app(app_config)
    assert "thrive.onboarding_finished" not in second.extensions
    with second.app_context():
        assert onboarding(db.session.get(Learner, learner.id)).completed  # read from the ledger
        assert learner.id in second.extensions["thrive.onboarding_finished"]
        db.session.remove()
