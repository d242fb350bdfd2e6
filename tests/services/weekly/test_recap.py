"""Weekly recap notifications (§9): personal, non-comparative, once per learner and week."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Learner, Notification
from thrive.services.points.award import award
from thrive.services.weekly.goals import ensure_goals
from thrive.services.weekly.recap import recap_title, send_weekly_recaps

UTC = UTC
W = "2026-W10"                                   # Monday 2026-03-02
MON = datetime(2026, 3, 2, 12, tzinfo=UTC)


def give(learner_id, activity, key, when, **kw):
    return award(learner_id, activity, event_key=key, occurred_at=when, now=when + timedelta(minutes=1), **kw)


def recaps() -> dict[int, Notification]:
    db.session.expire_all()
    recaps = db.session.scalars(select(Notification).where(Notification.type == "weekly_recap"))
    return {n.learner_id: n for n in recaps}


def test_recap_reports_own_points_and_completed_goals_once(app_ctx, make_learner):
    busy, light, idle, before, opted_out = (make_learner() for _ in range(5))
    ensure_goals(busy.id, W, now=MON)
    for i in range(3):
        give(busy.id, "quiz_completed", f"b{i}", MON + timedelta(hours=i))          # 3 × 20 + goal 30
    give(light.id, "comment_posted", "l1", MON + timedelta(days=6, hours=11))       # Sunday 23:00
    give(idle.id, "comment_posted", "i1", MON - timedelta(hours=13))                # the week before
    give(before.id, "comment_posted", "n1", MON + timedelta(days=7))                # the week after
    give(opted_out.id, "comment_posted", "o1", MON)
    db.session.get(Learner, opted_out.id).notification_prefs = {"weekly_recap": False}
    db.session.commit()

    counts = send_weekly_recaps(W, now=MON + timedelta(days=7, hours=-4))
    assert counts == {"week": W, "learners": 3, "sent": 2, "opted_out": 1}
    notes = recaps()
    assert set(notes) == {busy.id, light.id}
    assert notes[busy.id].title == "Last week you earned 90 points and completed 1 goal"
    assert notes[light.id].title == "Last week you earned 5 points"
    assert notes[busy.id].data == {"week": W, "points": 90, "goals": 1}
    assert notes[busy.id].dedupe_key == f"weekly_recap:{W}:{busy.id}"
    # Personal, never comparative: no other learner's amount, no rank words.
    for note in notes.values():
        text = f"{note.title} {note.body}".lower()
        assert not re.search(r"\b(rank\w*|top|percent\w*|than|others|leaderboard)\b|#", text), text
    assert send_weekly_recaps(W)["sent"] == 0
    assert len(recaps()) == 2


def test_recap_title_wording():
    assert recap_title(1, 0) == "Last week you earned 1 point"
    assert recap_title(12500, 3) == "Last week you earned 12,500 points and completed 3 goals"
