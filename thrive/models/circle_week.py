"""Bookkeeping for Thrive Circle assignment (§6.1), beside :mod:`.weekly`.

- :class:`CircleWeek` marks that the bulk assignment ran for a platform ISO
  week. Before it exists, mid-week joiners are *not* placed by the award hook
  (the assignment, perhaps a catch-up run, will place them with everybody
  else); after it exists, a re-run only tops up and learners who become active
  join a circle of their tier with room.
- ``uq_circles_week_tier_seq``: circles are numbered per (week, tier) by
  ``seq`` (0 → "A", 1 → "B" …). The unique index lets the bulk assignment join
  memberships to circles on (week, tier, seq) and stops two concurrent
  mid-week joiners from creating the same new circle.

Both are created by migration ``circles_0002``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .weekly import Circle


class CircleWeek(db.Model):
    """One row per platform ISO week whose circles were assigned (§6.1).

    ``learners``/``circles`` count what the bulk assignment placed/created;
    top-up runs and mid-week joiners do not change them.
    """

    __tablename__ = "circle_weeks"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    learners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    circles: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


#: Circles are numbered per week and tier; see the module docstring.
circles_week_tier_seq = Index("uq_circles_week_tier_seq", Circle.week, Circle.tier_key, Circle.seq, unique=True)
