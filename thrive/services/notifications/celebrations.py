"""Celebrations shown once as a modal with confetti (§7).

``award()`` queues :class:`~thrive.models.Celebration` rows (tier-ups,
level-ups, streak milestones…) through ``notifications.celebrate``. The
learner pages *claim* the pending ones when they render them: claiming sets
``shown_at`` with a conditional UPDATE, so two concurrent page renders or
polls never show the same celebration twice — each is shown exactly once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Celebration
from thrive.timeutil import as_utc, utcnow

#: Most important first when several are pending (the modal headlines the first).
KIND_PRIORITY = {"tier_up": 0, "circle_goal": 1, "level_up": 2, "streak_milestone": 3}


def _sort_key(c: Celebration) -> tuple:
    return (KIND_PRIORITY.get(c.kind, 9), -(c.id or 0))


def pending(learner_id: int) -> list[Celebration]:
    """The learner's celebrations not yet shown, most important first (read-only)."""
    rows = db.session.scalars(
        select(Celebration).where(Celebration.learner_id == learner_id, Celebration.shown_at.is_(None))
    ).all()
    return sorted(rows, key=_sort_key)


def has_pending(learner_id: int) -> bool:
    """True when at least one celebration waits to be shown (one indexed lookup)."""
    return db.session.scalar(
        select(Celebration.id).where(Celebration.learner_id == learner_id, Celebration.shown_at.is_(None)).limit(1)
    ) is not None


def claim_pending(learner_id: int, now: datetime | None = None) -> list[Celebration]:
    """Mark every pending celebration of the learner shown and return the ones this call claimed.

    ``now`` is the UTC instant stored in ``shown_at`` (defaults to the clock).
    Returns the claimed rows most important first; an empty list when nothing
    is pending or a concurrent caller claimed them first. The cheap read comes
    first so that the common case (nothing pending) never opens a write
    transaction.
    """
    if not has_pending(learner_id):
        return []
    now = as_utc(now) if now else utcnow()
    claimed: list[Celebration] = []
    with write_transaction() as session:
        candidates = session.scalars(
            select(Celebration).where(Celebration.learner_id == learner_id, Celebration.shown_at.is_(None))
        ).all()
        for item in candidates:
            result = session.execute(
                update(Celebration)
                .where(Celebration.id == item.id, Celebration.shown_at.is_(None))
                .values(shown_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(item)
        snapshot = [_detached_copy(c, now) for c in claimed]
    return sorted(snapshot, key=_sort_key)


def _detached_copy(item: Celebration, shown_at: datetime) -> Celebration:
    """A transient copy safe to render after the commit (no lazy loads, no session)."""
    return Celebration(id=item.id, learner_id=item.learner_id, kind=item.kind, title=item.title, body=item.body,
                       data=item.data, dedupe_key=item.dedupe_key, created_at=item.created_at, shown_at=shown_at)
