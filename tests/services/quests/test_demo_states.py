"""The demo community shows side quests and achievements in every state (§10, §14)."""
from __future__ import annotations

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner, LearnerAchievement, LedgerEntry
from thrive.services.achievements.reading import achievement_board, profile_badges
from thrive.services.ingest import demo
from thrive.services.points.verify import verify
from thrive.services.quests.board import quest_board


def test_demo_has_quests_and_achievements_in_every_state(app_ctx):
    demo.build_demo(learners=30, weeks=3, seed=3)
    learner = db.session.scalar(select(Learner).where(Learner.username == "demo"))
    board = quest_board(learner)
    assert board.in_progress and board.completed and board.locked, board
    assert {c.lock for c in board.locked} >= {"tier", "upcoming"}
    ach = achievement_board(learner.id)
    assert ach.earned and ach.in_progress and ach.locked and ach.secret
    assert any(c.achievement.status == "retired" for c in ach.earned)
    assert {c.visibility for c in ach.earned} >= {"featured", "private"}
    assert not any(b.achievement.key == next(c for c in ach.earned if c.visibility == "private").achievement.key
                   for b in profile_badges(learner.id))
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.activity_type == "side_quest_completed")) > 0
    assert db.session.scalar(select(func.count(func.distinct(LearnerAchievement.learner_id)))) > 10
    assert verify() == []
