"""The weekly recap notification (§9): personal and non-comparative.

Every Monday 08:00 (platform time) each learner who took part last week gets
one ``weekly_recap`` notification: "Last week you earned N points and
completed M goals" — N from the ledger (the sum of their entries of that
platform ISO week), M from their completed :class:`WeeklyGoal` rows of that
week. No ranks, no comparison with anybody. Learners with nothing to recap
(no points and no completed goal) get nothing; the per-type preference is
honoured. Deduped per learner and week (``weekly_recap:<week>:<learner id>``),
so a re-run sends nothing twice. Aggregation is set-based and notifications
are inserted in chunks.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from more_itertools import chunked
from sqlalchemy import func, select

from thrive.db import dialect_insert, write_transaction
from thrive.extensions import db
from thrive.models import Learner, LedgerEntry, Notification, WeeklyGoal
from thrive.services.errors import validate_week
from thrive.services.notifications.sending import wants
from thrive.timeutil import as_utc, shift_week, utcnow, week_start_instant

CHUNK = 2000


def recap_dedupe_key(learner_id: int, week: str) -> str:
    """Dedupe key of a learner's recap of ``week``."""
    return f"weekly_recap:{week}:{learner_id}"


def recap_title(points: int, goals: int) -> str:
    """"Last week you earned N points and completed M goals" (singular/plural, thousands separators)."""
    pts = f"{points:,} point{'' if points == 1 else 's'}"
    if goals:
        return f"Last week you earned {pts} and completed {goals} goal{'' if goals == 1 else 's'}"
    return f"Last week you earned {pts}"


def send_weekly_recaps(week: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Send ``weekly_recap`` notifications for platform ISO week ``week`` (the week that ended).

    Args:
        week: ``"YYYY-Www"`` — the week being recapped.
        now: current UTC instant (``created_at``); defaults to the clock.

    Returns counts ``{"week", "learners", "sent", "opted_out"}``: learners with
    something to recap, notifications created now, learners who switched
    recaps off. Raises :class:`ValidationError` for a malformed week.
    """
    validate_week(week)
    now = as_utc(now) if now else utcnow()
    start, end = week_start_instant(week), week_start_instant(shift_week(week, 1))
    points = (
        select(LedgerEntry.learner_id.label("learner_id"), func.sum(LedgerEntry.points).label("points"))
        .where(LedgerEntry.occurred_at >= start, LedgerEntry.occurred_at < end, LedgerEntry.week == week)
        .group_by(LedgerEntry.learner_id)
        .subquery()
    )
    goals = (
        select(WeeklyGoal.learner_id.label("learner_id"), func.count().label("done"))
        .where(WeeklyGoal.week == week, WeeklyGoal.completed_at.is_not(None))
        .group_by(WeeklyGoal.learner_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Learner.id, Learner.notification_prefs, func.coalesce(points.c.points, 0),
               func.coalesce(goals.c.done, 0))
        .outerjoin(points, points.c.learner_id == Learner.id)
        .outerjoin(goals, goals.c.learner_id == Learner.id)
        .where(Learner.is_active_account.is_(True),
               (points.c.learner_id.is_not(None)) | (goals.c.learner_id.is_not(None)))
        .order_by(Learner.id)
    ).all()
    db.session.commit()
    counts = {"week": week, "learners": 0, "sent": 0, "opted_out": 0}

    def recaps():
        for learner_id, prefs, earned, done in rows:
            earned, done = int(earned), int(done)
            if earned <= 0 and done == 0:
                continue
            counts["learners"] += 1
            if not wants(prefs, "weekly_recap"):
                counts["opted_out"] += 1
                continue
            earned = max(earned, 0)
            yield dict(
                learner_id=learner_id, type="weekly_recap", title=recap_title(earned, done),
                body="Thanks for showing up. A fresh week and new goals are waiting for you.", link="/",
                data={"week": week, "points": earned, "goals": done}, dedupe_key=recap_dedupe_key(learner_id, week),
                created_at=now,
            )

    for batch in chunked(recaps(), CHUNK):
        counts["sent"] += _insert(batch)
    return counts


def _insert(rows: list[dict]) -> int:
    with write_transaction() as session:
        insert = dialect_insert(session)
        stmt = insert(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
        before = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.dedupe_key.in_([r["dedupe_key"] for r in rows])))
        session.execute(stmt, rows)
        return len(rows) - (before or 0)
