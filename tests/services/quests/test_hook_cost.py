"""The quest and achievement award hooks cost no query when nothing can apply (the common case, §4.1)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from thrive.extensions import db
from thrive.services.achievements import catalog as achievements
from thrive.services.points.award import award
from thrive.services.points.registry import load_registry
from thrive.services.quests import catalog as quests

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def statements_of_one_award(learner_id: int, key: str, when: datetime, activity: str = "comment_posted") -> int:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    load_registry()  # warm, as a process serving awards has it (an edit of a quest or badge invalidates it)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        award(learner_id, activity, event_key=key, occurred_at=when, now=when + timedelta(seconds=1))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # the catalogs themselves are cached per process (re-read after an edit); their reads are not the hooks' cost
    return sum(1 for s in seen if "FROM quests" not in s and "FROM achievements" not in s)


def test_hooks_add_no_statement_when_no_quest_or_achievement_applies(app_ctx, make_learner):
    learner = make_learner()
    # 105 points: no level or tier threshold is crossed by the awards below (level 5 at 200)
    award(learner.id, "special_event", event_key="warm", points=100, occurred_at=T0 - timedelta(hours=1), now=T0)
    award(learner.id, "comment_posted", event_key="warm2", occurred_at=T0 - timedelta(hours=1), now=T0)
    baseline = statements_of_one_award(learner.id, "a", T0)
    q = quests.create_quest({"key": "quizzes", "title": "Quizzes", "activity_type": "quiz_completed", "target": 3},
                            now=T0 - timedelta(days=1))
    quests.set_status(q.id, "published", now=T0 - timedelta(days=1))
    achievements.create_achievement({"key": "ten", "name": "Ten", "criteria_text": "Ten quizzes.",
                                     "criteria": {"kind": "counter", "counter": "quizzes_completed", "target": 10}})
    achievements.create_achievement({"key": "comments", "name": "Comments", "criteria_text": "50 comments.",
                                     "criteria": {"kind": "counter", "counter": "comments_posted", "target": 50}})
    assert statements_of_one_award(learner.id, "b", T0 + timedelta(minutes=1)) == baseline
    # an award some quest counts costs exactly one more (the learner's open runs)
    quiz_base = statements_of_one_award(learner.id, "c", T0 + timedelta(minutes=2), "quiz_completed")
    quests.set_status(q.id, "retired", now=T0)
    assert statements_of_one_award(learner.id, "d", T0 + timedelta(minutes=3), "quiz_completed") == quiz_base - 1
