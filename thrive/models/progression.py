"""Tier ladder, level table and recorded tier/level-ups (§5)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class Tier(db.Model):
    """One rung of the tier ladder (§5.1): reached at ``threshold`` points."""

    __tablename__ = "tiers"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    emoji: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    colour: Mapped[str] = mapped_column(String(16), nullable=False, default="#888888")
    tagline: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class Level(db.Model):
    """A level threshold (§5.2); beyond the table each level costs a fixed step."""

    __tablename__ = "levels"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)


class ProgressionEvent(db.Model):
    """A tier-up or level-up, recorded by ``award()`` (§4.1).

    ``kind`` is ``"tier_up"`` (values are tier keys) or ``"level_up"`` (values
    are level numbers as text); a jump over several levels records one event
    per level. Feeds show shared tier-ups from here (§8.1).
    """

    __tablename__ = "progression_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    from_value: Mapped[str] = mapped_column(String(32), nullable=False)
    to_value: Mapped[str] = mapped_column(String(32), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_progression_learner", "learner_id", "occurred_at"),
        Index("ix_progression_kind_occurred_id", "kind", "occurred_at", "id"),
    )
