"""Operations: the scheduler's heartbeat, read by ``/readyz`` (§15)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SchedulerHeartbeat(db.Model):
    """One row per scheduler process name: the last instant (UTC) it was alive."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
