"""Side quests and achievements of the demo community (``flask thrive demo``, §10, §14).

Called by ``services.ingest.demo.build_demo`` around its awards, so the demo
shows every state:

- :func:`before_awards` seeds the default quests plus demo ones (an ended
  window, an upcoming one, a long topic quest, a Phoenix-only quest), then
  starts quests for many learners at the moment they join — their later
  activity, awarded through ``award()``, moves and completes them (completion
  awards, notifications and celebrations included);
- :func:`after_awards` seeds the default achievements and a demo one that is
  then retired, runs the quiet backfill (badges dated from the ledger), lets
  the demo learner start a quest their tier allows, and features / hides a few
  of the demo learner's badges.

Everything derives from its own ``random.Random(seed)``, so the rest of the
demo's random sequence is unchanged.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Quest
from thrive.services.achievements import catalog as achievements
from thrive.services.achievements.backfill import backfill
from thrive.services.achievements.grants import set_visibility
from thrive.services.achievements.reading import held_rows
from thrive.services.errors import ThriveError
from thrive.services.quests import catalog as quests
from thrive.services.quests.progress import start_quest

DEMO_QUESTS = [
    dict(key="autumn-warm-up", title="Autumn warm-up", description="Post two comments before the season ends.",
         difficulty="beginner", activity_type="comment_posted", target=2, position=10),
    dict(key="python-deep-dive", title="Python deep dive", description="Complete 40 quizzes on Python.",
         difficulty="advanced", activity_type="quiz_completed", target=40, topic_filter="Python", topic="Python",
         position=11),
    dict(key="holiday-hackathon", title="Holiday hackathon", description="Publish a project during the hackathon.",
         difficulty="intermediate", activity_type="project_published", target=1, position=12),
    dict(key="phoenix-trial", title="Phoenix trial", description="Give feedback ten times as a Phoenix.",
         difficulty="advanced", activity_type="feedback_given", target=10, min_tier="phoenix", position=13),
]


def before_awards(people, first_day_start: datetime, now: datetime, seed: int, demo_username: str) -> int:
    """Seed quests and start some for learners at their first instant; return runs started.

    ``people`` are the demo's persons (``learner_id``, ``username``, ``joined``…);
    ``first_day_start`` the UTC instant the demo window starts.
    """
    quests.seed_quests()
    windows = {
        "autumn-warm-up": (first_day_start - timedelta(days=1), first_day_start + (now - first_day_start) / 2),
        "holiday-hackathon": (now + timedelta(days=3), now + timedelta(days=17)),
    }
    existing = set(db.session.scalars(select(Quest.key)))
    db.session.commit()
    for spec in DEMO_QUESTS:
        if spec["key"] in existing:
            continue
        start, end = windows.get(spec["key"], (None, None))
        quest = quests.create_quest({**spec, "available_from": start, "available_until": end},
                                    now=first_day_start - timedelta(days=1))
        quests.set_status(quest.id, "published", now=first_day_start - timedelta(days=1))
    by_key = {q.key: q for q in quests.published().quests}
    rng = random.Random(seed + 7)
    started = 0
    for person in people:
        at = max(first_day_start, datetime.combine(person.joined, datetime.min.time(), tzinfo=first_day_start.tzinfo))
        picks = [k for k, chance in (("first-steps", .55), ("join-the-conversation", .35), ("autumn-warm-up", .3))
                 if rng.random() < chance]
        if person.username == demo_username:
            picks = ["first-steps", "join-the-conversation", "autumn-warm-up", "python-deep-dive"]
        for key in picks:
            if key in by_key:
                try:
                    start_quest(person.learner_id, by_key[key].id, now=at)
                    started += 1
                except ThriveError:
                    continue
    return started


def after_awards(people, now: datetime, demo_username: str) -> int:
    """Seed achievements (one demo badge retired after the backfill), backfill, arrange the demo learner's badges.

    Returns the number of badges granted by the backfill.
    """
    achievements.seed_achievements()
    pioneer = next((a for a in achievements.all_achievements() if a.key == "demo-pioneer"), None)
    if pioneer is None:
        pioneer = achievements.create_achievement({
            "key": "demo-pioneer", "name": "Pioneer", "icon": "🧭", "group": "Community",
            "criteria_text": "Joined Thrive in its first weeks.", "criteria": {"kind": "points", "target": 1},
            "reward": 25, "description": "For the first members of the community (no longer awarded).",
        })
    granted = backfill().granted
    achievements.set_status(pioneer.id, "retired")
    demo = next((p for p in people if p.username == demo_username), None)
    if demo is None:
        return granted
    for quest in quests.published().quests:
        if quest.key in ("weekly-quiz-sprint", "helping-hand"):
            try:
                start_quest(demo.learner_id, quest.id, now=now - timedelta(minutes=30))
            except ThriveError:
                continue
    rows = sorted(held_rows(demo.learner_id).values(), key=lambda r: r.granted_at)
    db.session.commit()
    for row in rows[:2]:
        set_visibility(demo.learner_id, row.achievement_id, "featured")
    if len(rows) > 3:
        set_visibility(demo.learner_id, rows[-1].achievement_id, "private")
    return granted
