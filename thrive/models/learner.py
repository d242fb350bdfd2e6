"""Learners (accounts), their derived progression state, topics and follows (§2, §4.4, §8)."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy import true as sa_true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

#: Staff roles stored in ``Learner.staff_role`` (§11).
STAFF_ROLES = ("admin", "moderator")


class Learner(UserMixin, db.Model):
    """A person using Thrive: a learner, or staff (§11).

    ``staff_role`` is None for learners, ``"admin"`` (everything) or
    ``"moderator"`` (moderation and read-only learner pages) for staff.
    ``is_learner`` is False for staff unless flagged: non-learners get no
    circle, no daily visit, and are absent from discover, feeds and stats.
    ``is_admin`` is kept as a property over ``staff_role`` (settable).

    ``timezone`` is an IANA name defining the learner's local day (§3).
    The three privacy switches of §8.4 default to on. ``external_id`` links the
    learner to the learning platform (set through the API, §13).
    ``notification_prefs`` maps notification type → bool (missing = on).
    """

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    staff_role: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    is_learner: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=sa_true())
    is_active_account: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    share_activities: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    share_tier_upgrades: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    share_profile: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    notification_prefs: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    #: UI language ("en", "es"); None follows the browser's Accept-Language (§7).
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    #: Bumped to end every session and remember cookie of the learner (sign-out, all devices, erasure).
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    #: Set when the account was erased on the learner's request (personal data gone, §15).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    state: Mapped[LearnerState] = relationship(back_populates="learner", uselist=False, lazy="joined")
    topic_rows: Mapped[list[LearnerTopic]] = relationship(
        cascade="all, delete-orphan", order_by="LearnerTopic.topic", lazy="selectin"
    )

    @property
    def topics(self) -> list[str]:
        """The learner's interests (topic names), sorted."""
        return [t.topic for t in self.topic_rows]

    @hybrid_property
    def is_admin(self) -> bool:
        """True for staff with the ``admin`` role (query-able: ``Learner.is_admin``)."""
        return self.staff_role == "admin"

    @is_admin.inplace.setter
    def _is_admin_setter(self, value: bool) -> None:
        if value:
            self.staff_role = "admin"
        elif self.staff_role == "admin":
            self.staff_role = None

    @is_admin.inplace.expression
    @classmethod
    def _is_admin_expression(cls):
        return cls.staff_role == "admin"

    @property
    def is_staff(self) -> bool:
        """True for admins and moderators (§11)."""
        return self.staff_role is not None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:
        """Flask-Login's id (session and remember cookie): ``"<id>:<session_generation>"``.

        A cookie minted before the generation was bumped no longer loads the
        learner (see ``thrive.services.accounts.sessions``).
        """
        return f"{self.id}:{self.session_generation or 0}"

    def __repr__(self) -> str:
        return f"<Learner {self.username}>"


class LearnerTopic(db.Model):
    """One interest of a learner (discover filters by topic, §8.2)."""

    __tablename__ = "learner_topics"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_learner_topics_topic", "topic"),)


class LearnerState(db.Model):
    """Derived progression state of one learner, recomputable from the ledger (§4.4).

    - ``total_points``: sum of all ledger points.
    - ``weekly_points`` belong to platform ISO week ``weekly_week``; read them
      through ``services.progression.weekly_points`` (0 once the week is over).
    - ``peak_points``: highest total ever reached (tiers/levels never drop).
    - ``tier_key`` / ``level``: highest reached, never decreasing (§5.1, §5.2).
    - streak fields (§5.3): ``current_streak``/``longest_streak`` in days,
      ``streak_through`` the last local date the streak is valid through
      (active or covered by a grace day), ``grace_days`` banked (0–2),
      ``last_active_date`` the last local date with a streak-counting award.
    - lifetime counters (§5.4).
    """

    __tablename__ = "learner_states"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    total_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    weekly_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    weekly_week: Mapped[str | None] = mapped_column(String(8), nullable=True)
    peak_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tier_key: Mapped[str] = mapped_column(String(32), nullable=False, default="ember")
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    current_streak: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    longest_streak: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    streak_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    grace_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_active_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_award_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    quizzes_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    projects_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    comments_posted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    side_quests_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    learner: Mapped[Learner] = relationship(back_populates="state")

    __table_args__ = (
        Index("ix_learner_states_tier_total", "tier_key", "total_points"),
        Index("ix_learner_states_last_award_at", "last_award_at"),
    )


class Follow(db.Model):
    """``follower`` follows ``followed`` (§8.3)."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    followed_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_follows_followed", "followed_id"),
    )
