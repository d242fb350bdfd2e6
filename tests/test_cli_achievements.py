"""``flask thrive seed`` (quests and achievements) and ``flask thrive grant-achievements`` (§10, §12)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Achievement, LearnerAchievement, Notification, Quest
from thrive.services.points.award import award


def test_seed_adds_default_quests_and_achievements_once_and_keeps_edits(app, runner):
    result = runner.invoke(args=["thrive", "seed"])
    assert result.exit_code == 0 and "side quests" in result.output and "achievements" in result.output
    with app.app_context():
        n_achievements = db.session.scalar(select(func.count()).select_from(Achievement))
        n_quests = db.session.scalar(select(func.count()).select_from(Quest))
        assert n_achievements >= 15 and n_quests >= 3
        row = db.session.scalar(select(Achievement).where(Achievement.key == "first-quiz"))
        row.name, row.reward = "Quiz Beginner", 30
        db.session.commit()
    again = runner.invoke(args=["thrive", "seed"])
    assert again.exit_code == 0 and "0 side quests, 0 achievements" in again.output
    with app.app_context():
        assert db.session.scalar(select(Achievement.name).where(Achievement.key == "first-quiz")) == "Quiz Beginner"
        assert db.session.scalar(select(func.count()).select_from(Achievement)) == n_achievements


def test_grant_achievements_backfills_quietly(app, runner, make_learner):
    learner = make_learner("old-timer")
    when = datetime.now(UTC) - timedelta(days=3)
    with app.app_context():
        award(learner.id, "quiz_completed", event_key="old:1", occurred_at=when)
        db.session.remove()
    assert runner.invoke(args=["thrive", "seed"]).exit_code == 0
    dry = runner.invoke(args=["thrive", "grant-achievements", "--dry-run"])
    assert dry.exit_code == 0 and "Would grant" in dry.output and "first-quiz: 1" in dry.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LearnerAchievement)) == 0
        notes = db.session.scalar(select(func.count()).select_from(Notification))
    result = runner.invoke(args=["thrive", "grant-achievements", "--learner", "old-timer"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalar(select(LearnerAchievement))
        assert row.granted_at.replace(tzinfo=UTC) == when and row.source == "backfill"
        assert db.session.scalar(select(func.count()).select_from(Notification)) == notes
    assert "Granted 0" in runner.invoke(args=["thrive", "grant-achievements"]).output


def test_grant_achievements_refuses_unknown_names(runner):
    result = runner.invoke(args=["thrive", "grant-achievements", "--learner", "nobody"])
    assert result.exit_code != 0 and "unknown learner" in result.output
    result = runner.invoke(args=["thrive", "grant-achievements", "--achievement", "nope"])
    assert result.exit_code != 0 and "unknown achievement" in result.output
