"""The demo community's social ties (§7, §14): follows and cheers between the demo's learners.

Owns who follows and cheers whom: follows (through ``follows.follow``, so
people get their ``new_follower`` notifications) prefer people with shared
topics, and a few people follow the demo learner back; cheers land on recent
feed items of learners who share their activities (through ``cheers.cheer``).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from thrive.extensions import db
from thrive.models import LedgerEntry
from thrive.services.errors import ThriveError
from thrive.timeutil import as_utc

from .people import DEMO_USERNAME, _Person


def _follow_all(rng: random.Random, people: list[_Person], now: datetime) -> int:
    from thrive.services.community.follows import follow

    visible = [p for p in people if p.share_profile]
    made = 0
    for person in people:
        k = min(len(visible) - 1, int(rng.expovariate(1 / 3)) + (12 if person.username == DEMO_USERNAME else 0))
        if k <= 0:
            continue
        mine = set(person.topics)
        weights = [(4 if mine & set(o.topics) else 1) if o is not person else 0 for o in visible]
        chosen: set[int] = set()
        for _ in range(k * 3):
            if len(chosen) >= k:
                break
            other = rng.choices(visible, weights=weights, k=1)[0]
            if other is person or other.learner_id in chosen:
                continue
            chosen.add(other.learner_id)
        for other_id in sorted(chosen):
            try:
                made += follow(person.learner_id, other_id, now=now - timedelta(minutes=rng.randint(5, 20000))).created
            except ThriveError:
                continue
    demo = next((p for p in people if p.username == DEMO_USERNAME), None)
    if demo:  # a few people follow the demo learner back
        for other in rng.sample(people[1:], k=min(15, len(people) - 1)):
            try:
                when = now - timedelta(minutes=rng.randint(5, 9000))
                made += follow(other.learner_id, demo.learner_id, now=when).created
            except ThriveError:
                continue
    return made


def _cheer_some(rng: random.Random, people: list[_Person], now: datetime, wanted: int) -> int:
    from thrive.services.community.cheers import cheer

    sharing = {p.learner_id for p in people if p.share_activities}
    since = now - timedelta(days=6)
    entries = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.learner_id, LedgerEntry.occurred_at)
        .where(LedgerEntry.occurred_at >= since, LedgerEntry.points > 0, LedgerEntry.capped.is_(False),
               LedgerEntry.activity_type.in_(("quiz_completed", "project_published", "project_created",
                                              "battle_won", "weekly_challenge_completed")))
        .order_by(LedgerEntry.id)
    ).all()
    db.session.commit()
    entries = [e for e in entries if e.learner_id in sharing]
    if not entries:
        return 0
    made = 0
    for _ in range(wanted):
        entry_id, author, at = rng.choice(entries)
        cheerer = rng.choice(people)
        if cheerer.learner_id == author:
            continue
        when = min(now, as_utc(at) + timedelta(minutes=rng.randint(3, 600)))
        try:
            cheer(cheerer.learner_id, "entry", entry_id, now=when)
            made += 1
        except ThriveError:
            continue
    return made
