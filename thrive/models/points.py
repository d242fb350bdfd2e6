"""The rule registry and the ledger (§4)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

#: The six categories of §4.2 (admin adjustments have no category).
CATEGORIES = ("creation", "learning", "community", "participation", "consistency", "challenge")


class PointRule(db.Model):
    """One row of the activity registry (§4.2).

    ``base_points`` is the default amount; ``difficulty_points`` maps
    ``metadata.difficulty`` → points; ``perfect_bonus_percent`` is added for a
    perfect score (``metadata.score == 100`` or ``metadata.perfect``).
    ``max_per_day`` counts the learner's local day, ``max_per_week`` the
    platform ISO week, ``max_ever`` all time (None = no cap).
    ``allow_custom_points`` lets callers pass ``points`` within
    ``[min_points, max_points]``; ``allow_negative`` only for admin adjustments;
    ``requires_description`` makes the description (reason) mandatory.
    """

    __tablename__ = "point_rules"

    activity_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    base_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    difficulty_points: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    perfect_bonus_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_per_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_ever: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allow_custom_points: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    min_points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    allow_negative: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requires_description: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Whether API callers may award this type (False: system-only, awarded by Thrive itself; 422 otherwise).
    api_allowed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Where on the learning platform the activity is done (admin-set; shown by onboarding, §7).
    where_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    #: Current version number (§4.2): 1 as seeded, +1 on every saved admin change
    #: (each saved version is kept whole in :class:`PointRuleVersion`).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class LedgerEntry(db.Model):
    """One award, immutable once written (§4.4).

    ``points`` may be 0 with ``capped`` true (an award over a cap, kept for
    audit, never shown in feeds). ``local_date`` is ``occurred_at`` in the
    learner's time zone at award time, ``week`` the platform ISO week; both
    drive caps. ``event_key`` is the idempotency key (unique forever, §4.3)
    and ``payload_hash`` fingerprints the request so a reused key with another
    payload is rejected. ``result`` keeps the AwardResult fields so a
    duplicate answers the original result.
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), nullable=False)
    activity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    capped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    event_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict | None] = mapped_column("metadata", JSON, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    local_date: Mapped[date] = mapped_column(Date, nullable=False)
    week: Mapped[str] = mapped_column(String(8), nullable=False)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: The rule version that priced this entry (§4.2, §4.4); None for entries older than versioning.
    rule_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_ledger_learner_type_date", "learner_id", "activity_type", "local_date"),
        Index("ix_ledger_learner_type_week", "learner_id", "activity_type", "week"),
        Index("ix_ledger_learner_occurred", "learner_id", "occurred_at"),
        Index("ix_ledger_occurred_id", "occurred_at", "id"),
    )


class PointRuleVersion(db.Model):
    """One saved version of a point rule (§4.2): the whole rule as it was, who saved it and when.

    ``snapshot`` holds every :class:`PointRule` field (JSON); ``version`` counts
    from 1 per activity type; ``author_id`` is the staff member (None for the
    seeded version 1, written when the rule is first edited).
    """

    __tablename__ = "point_rule_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_type: Mapped[str] = mapped_column(
        ForeignKey("point_rules.activity_type", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    snapshot: Mapped[dict] = mapped_column(JSON, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("activity_type", "version", name="uq_point_rule_versions_type_version"),)


class LedgerDuplicate(db.Model):
    """Later submissions of a ledger entry's event key that were answered as duplicates (§4.3, §11).

    The ledger stays append-only (§4.4): a duplicate writes nothing to its
    entry, only bumps this side row — ``count`` submissions so far, the last
    at ``last_at`` (UTC, the server's clock when it answered). Counted for
    top-level submissions (the API, imports, the CLI, admin forms), not for
    the internal idempotency checks of nested awards. Shown in the admin
    learner ledger ("N later submissions were duplicates").
    """

    __tablename__ = "ledger_duplicates"

    ledger_entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
