"""The audit log of staff actions (§11): append-only, one entry per action."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class AuditEntry(db.Model):
    """One staff action: who (id + username snapshot), when (UTC), what, before/after as JSON.

    ``actor_id`` is set to NULL if the staff account is erased; ``actor_username``
    keeps the name it had then. ``target_type``/``target_id`` name the object
    acted on (``"learner"``, ``"api_key"``, ``"point_rule"``…; the id as text).
    ``before``/``after`` are JSON-serialisable snapshots (None when not applicable).
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), nullable=True)
    actor_username: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    before: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_actor_at", "actor_id", "at"),
        Index("ix_audit_entries_action_at", "action", "at"),
        Index("ix_audit_entries_target", "target_type", "target_id"),
    )
