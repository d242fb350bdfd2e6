"""Circle goals sized from the circle's own recent weeks, so that they are a stretch (§6.1, issue 11).

For each circle of a week, its members' combined points in each of the
previous ``THRIVE_CIRCLE_GOAL_WEEKS`` (4) platform weeks are summed; the goal is
``THRIVE_CIRCLE_GOAL_STRETCH_PERCENT`` (100) percent of the *median* of those
weekly sums, rounded up to 10 — the circle's typical week, so it is reached in
about half of weeks (a stretch), not by Wednesday. Raise the percent for a harder goal.
Weeks in which no member earned anything are skipped
(new learners); a circle with no history at all falls back to
``members × THRIVE_CIRCLE_GOAL_PER_MEMBER``. Circle bonuses and admin
corrections do not count towards the history (they are not "showing up").

The §6.1 intent — reached by roughly half to three quarters of circles — is
checked on the demo community in ``tests/services/weekly/test_circle_goal_sizing.py``.
"""
from __future__ import annotations

from statistics import median

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from thrive.models import Circle, CircleMembership, LedgerEntry
from thrive.timeutil import shift_week

#: Awards that do not count as the circle's own pace.
EXCLUDED = ("circle_goal_completed", "admin_adjustment")


def sizing_mode() -> str:
    """``"history"`` (default: from recent weeks) or ``"per_member"`` (members × goal per member)."""
    mode = str(current_app.config.get("THRIVE_CIRCLE_GOAL_SIZING", "history"))
    return mode if mode in ("history", "per_member") else "history"


def goal_weeks() -> int:
    return max(int(current_app.config.get("THRIVE_CIRCLE_GOAL_WEEKS", 4)), 1)


def stretch_percent() -> int:
    return max(int(current_app.config.get("THRIVE_CIRCLE_GOAL_STRETCH_PERCENT", 100)), 1)


def goal_from_history(weekly_sums: list[int], members: int, per_member: int, stretch: int) -> int:
    """The goal (points) for a circle of ``members`` whose members earned ``weekly_sums`` in recent weeks.

    Pure function: the median of the non-zero sums × ``stretch`` percent, rounded
    up to a multiple of 10; ``members × per_member`` without any history.
    """
    history = [s for s in weekly_sums if s > 0]
    if not history:
        return members * per_member
    raw = median(history) * stretch / 100
    return max(int(-(-raw // 10) * 10), 10)


def size_circle_goals(session: Session, week: str, per_member: int, circle_ids: list[int] | None = None) -> int:
    """Set ``goal_target`` of the circles of ``week`` (or only ``circle_ids``) from their members' history.

    Runs in the caller's transaction; returns how many circles were sized. With
    ``THRIVE_CIRCLE_GOAL_SIZING=per_member`` every goal is ``members × per_member``.
    """
    weeks = [shift_week(week, -i) for i in range(1, goal_weeks() + 1)]
    cm = CircleMembership
    circles = select(Circle.id).where(Circle.week == week)
    if circle_ids is not None:
        circles = circles.where(Circle.id.in_(circle_ids))
    ids = list(session.scalars(circles))
    if not ids:
        return 0
    sums: dict[int, dict[str, int]] = {i: {} for i in ids}
    rows = session.execute(
        select(cm.circle_id, LedgerEntry.week, func.sum(LedgerEntry.points))
        .join(LedgerEntry, LedgerEntry.learner_id == cm.learner_id)
        .where(cm.circle_id.in_(ids), LedgerEntry.week.in_(weeks), LedgerEntry.points > 0,
               LedgerEntry.activity_type.not_in(EXCLUDED))
        .group_by(cm.circle_id, LedgerEntry.week)
    )
    for circle_id, wk, total in rows:
        sums[circle_id][wk] = int(total or 0)
    sizes = dict(session.execute(select(cm.circle_id, func.count(cm.id)).where(cm.circle_id.in_(ids))
                                 .group_by(cm.circle_id)).all())
    stretch = stretch_percent()
    if sizing_mode() == "per_member":
        sums = {i: {} for i in ids}
    for circle_id in ids:
        target = goal_from_history([sums[circle_id].get(w, 0) for w in weeks], sizes.get(circle_id, 0),
                                   per_member, stretch)
        session.execute(update(Circle).where(Circle.id == circle_id).values(goal_target=target))
    return len(ids)
