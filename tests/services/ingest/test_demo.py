"""``flask thrive demo``: a seeded synthetic community through award() (§14, issue 2 item 7)."""
from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from thrive import create_app
from thrive.extensions import db
from thrive.models import Follow, Learner, LearnerState, LedgerEntry, Notification
from thrive.services.accounts.learners import authenticate
from thrive.services.ingest import demo
from thrive.services.points.registry import invalidate, seed_defaults

UTC = UTC


def test_demo_builds_a_living_community(app, runner):
    result = runner.invoke(args=["thrive", "demo", "--learners", "40", "--weeks", "3", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert "Sign in as admin / thrive-admin" in result.output

    with app.app_context():
        admin = authenticate("admin", "thrive-admin")
        learner = authenticate("demo", "thrive-demo")
        assert admin is not None and admin.is_admin
        assert admin.staff_role == "admin" and not admin.is_learner  # staff are not learners (§11)
        assert learner is not None and not learner.is_admin
        people = db.session.scalars(select(Learner)).all()
        assert len(people) == 42
        synthetic = [p for p in people if p.username not in ("admin", "demo")]
        assert all(p.display_name and " " in p.display_name for p in synthetic)     # realistic names
        assert all(p.topics for p in synthetic)
        assert len({p.timezone for p in synthetic}) >= 5                            # spread over the world
        assert sum(p.share_activities for p in synthetic) > len(synthetic) / 2      # most share …
        assert any(not (p.share_activities and p.share_profile and p.share_tier_upgrades) for p in synthetic)

        kinds = Counter(db.session.scalars(select(LedgerEntry.activity_type)))
        for kind in ("daily_login", "quiz_completed", "comment_posted", "onboarding_completed"):
            assert kinds[kind] > 0, kind
        assert len(kinds) >= 8
        quiz_meta = [m for m in db.session.scalars(select(LedgerEntry.meta).where(
            LedgerEntry.activity_type == "quiz_completed")) if m]
        assert all({"topic", "difficulty", "score"} <= set(m) for m in quiz_meta)
        assert {m["difficulty"] for m in quiz_meta} == {"beginner", "intermediate", "advanced"}

        demo_state = db.session.get(LearnerState, learner.id)
        assert demo_state.total_points > 0 and demo_state.longest_streak >= 7
        assert db.session.scalar(select(func.count()).select_from(Follow)) > 20
        assert db.session.scalar(select(func.count()).select_from(Follow).where(
            Follow.followed_id == learner.id)) > 0
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.type == "new_follower")) > 0
        # Nothing is dated in the future, and the admin account has no activity.
        assert db.session.scalar(select(func.max(LedgerEntry.occurred_at))).replace(tzinfo=UTC) <= datetime.now(UTC)
        assert db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.learner_id == admin.id)) == 0
        # The ledger is the truth: derived state matches it.
        total = db.session.scalar(select(func.sum(LedgerEntry.points)))
        assert db.session.scalar(select(func.sum(LearnerState.total_points))) == total

    verified = runner.invoke(args=["thrive", "verify"])
    assert verified.exit_code == 0, verified.output


def test_if_empty_is_a_no_op_when_learners_exist(app, runner, make_learner):
    make_learner("early_bird")
    result = runner.invoke(args=["thrive", "demo", "--if-empty", "--learners", "5"])
    assert result.exit_code == 0
    assert "demo community not created" in result.output
    refused = runner.invoke(args=["thrive", "demo", "--learners", "5"])
    assert refused.exit_code == 1
    assert "needs an empty database" in refused.output
    with app.app_context():
        assert db.session.scalars(select(Learner.username)).all() == ["early_bird"]
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


def test_if_empty_builds_on_an_empty_database_then_stays_put(app, runner):
    first = runner.invoke(args=["thrive", "demo", "--if-empty", "--learners", "5", "--weeks", "1"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (db.session.scalar(select(func.count(Learner.id))),
                  db.session.scalar(select(func.count(LedgerEntry.id))))
    assert counts[0] == 7 and counts[1] > 0
    second = runner.invoke(args=["thrive", "demo", "--if-empty"])
    assert second.exit_code == 0 and "not created" in second.output
    with app.app_context():
        assert (db.session.scalar(select(func.count(Learner.id))),
                db.session.scalar(select(func.count(LedgerEntry.id)))) == counts


@pytest.mark.parametrize("args, message", [
    (["--weeks", "0"], "--weeks"), (["--learners", "-1"], "--learners"), (["--weeks", "99"], "--weeks")])
def test_bad_arguments_are_refused(app, runner, args, message):
    result = runner.invoke(args=["thrive", "demo", *args])
    assert result.exit_code == 2 and message in result.output


def _snapshot(uri: str, seed: int, now: datetime) -> tuple:
    invalidate()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "x"})
    with app.app_context():
        seed_defaults()
        demo.build_demo(learners=25, weeks=2, seed=seed, now=now)
        people = tuple(db.session.execute(select(
            Learner.username, Learner.display_name, Learner.timezone, Learner.share_activities)
            .order_by(Learner.id)).all())
        ledger = tuple(db.session.execute(select(
            LedgerEntry.learner_id, LedgerEntry.activity_type, LedgerEntry.points, LedgerEntry.occurred_at,
            LedgerEntry.event_key).order_by(LedgerEntry.id)).all())
        follows = tuple(db.session.execute(select(Follow.follower_id, Follow.followed_id)
                                           .order_by(Follow.follower_id, Follow.followed_id)).all())
        db.session.remove()
        db.engine.dispose()
    invalidate()
    return people, ledger, follows


def test_same_seed_same_community(sqlite_template, tmp_path):
    now = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)
    uris = []
    for name in ("a", "b", "c"):
        shutil.copyfile(sqlite_template, tmp_path / f"{name}.db")
        uris.append(f"sqlite:///{tmp_path / name}.db")
    first = _snapshot(uris[0], 5, now)
    assert first[1], "no activity"
    assert first == _snapshot(uris[1], 5, now)
    assert first[0] != _snapshot(uris[2], 6, now)[0]
