"""Reading achievements: the learner's board, profile badges, rarity, the API list (§1.3, §8.4, §10).

Privacy rules, in one place:

- **Secret** achievements the viewer has not earned show as "???" — no name,
  criteria or progress, to others *and* to the owner (:class:`BadgeCard`
  ``hidden``).
- **Private** badges (the learner's choice) and revoked ones never appear to
  anyone else: :func:`profile_badges` filters them in SQL.
- **Rarity** is an aggregate: the share of *active learners* (an active,
  non-staff account with an award in the last ``THRIVE_CIRCLE_ELIGIBILITY_DAYS``
  days) who hold a badge, as a whole percent — never who holds it, and none
  at all while fewer than :data:`MIN_LEARNERS_FOR_RARITY` learners are active (§1.3).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from thrive.extensions import db
from thrive.models import Learner, LearnerAchievement, LearnerState, LedgerEntry
from thrive.models.achievements import COUNTERS
from thrive.services.achievements.catalog import AchievementDef, active, all_achievements
from thrive.services.achievements.criteria import Facts, activity_type_of, target_of, value_of
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, utcnow

#: No rarity below this many active learners (no aggregate of fewer than 3, §1.3).
MIN_LEARNERS_FOR_RARITY = 3


@dataclass(frozen=True)
class Rarity:
    """``holders`` of ``active`` active learners; ``percent`` rounded to a whole number (0–100).

    ``under_one`` is true when some hold it but the rounded percent is 0 ("fewer than 1%").
    """

    holders: int
    active: int
    percent: int

    @property
    def under_one(self) -> bool:
        return self.holders > 0 and self.percent == 0


def rarity_from_counts(holders: int, active_learners: int) -> Rarity | None:
    """The :class:`Rarity` of ``holders`` among ``active_learners``; None below the minimum (pure)."""
    if active_learners < MIN_LEARNERS_FOR_RARITY:
        return None
    holders = min(holders, active_learners)
    return Rarity(holders, active_learners, int(holders * 100 / active_learners + 0.5))


def active_window_start(now: datetime) -> datetime:
    return as_utc(now) - timedelta(days=int(current_app.config.get("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28)))


def rarities(now: datetime | None = None) -> dict[int, Rarity | None]:
    """Rarity of every achievement at ``now`` (UTC): achievement id → :class:`Rarity` (or None). Two queries."""
    now = as_utc(now) if now else utcnow()
    since = active_window_start(now)
    is_active = (Learner.is_active_account.is_(True), Learner.is_learner.is_(True), LearnerState.last_award_at >= since)
    total = db.session.scalar(
        select(func.count()).select_from(LearnerState).join(Learner, Learner.id == LearnerState.learner_id)
        .where(*is_active)) or 0
    holders = dict(db.session.execute(
        select(LearnerAchievement.achievement_id, func.count())
        .join(Learner, Learner.id == LearnerAchievement.learner_id)
        .join(LearnerState, LearnerState.learner_id == LearnerAchievement.learner_id)
        .where(LearnerAchievement.revoked_at.is_(None), *is_active)
        .group_by(LearnerAchievement.achievement_id)).all())
    db.session.commit()
    return {a.id: rarity_from_counts(int(holders.get(a.id, 0)), total) for a in all_achievements()}


def learner_facts(learner_id: int, defs: list[AchievementDef]) -> Facts:
    """The learner's current :class:`Facts` for ``defs`` (state row + one grouped count of award types)."""
    registry = load_registry()
    state = db.session.get(LearnerState, learner_id)
    types = sorted({t for t in (activity_type_of(a.criteria) for a in defs) if t})
    counts = dict(db.session.execute(
        select(LedgerEntry.activity_type, func.count())
        .where(LedgerEntry.learner_id == learner_id, LedgerEntry.activity_type.in_(types),
               LedgerEntry.capped.is_(False))
        .group_by(LedgerEntry.activity_type)).all()) if types else {}
    if state is None:
        return Facts(activity_counts=counts)
    return Facts(counters={c: getattr(state, c) for c in COUNTERS}, activity_counts=counts,
                 longest_streak=state.longest_streak, tier_index=registry.tier_index(state.tier_key),
                 level=state.level, total_points=state.total_points)


@dataclass(frozen=True)
class BadgeCard:
    """One achievement on the learner's own board.

    ``state``: ``earned``, ``in_progress`` (0 < progress < target), ``locked``
    (no progress yet) or ``secret`` (unearned secret: ``hidden`` is true and
    nothing but "???" may be shown). ``progress``/``target`` in the
    criterion's unit (counts, days, level, points). ``granted_at`` UTC.
    """

    achievement: AchievementDef
    state: str
    progress: int = 0
    target: int = 0
    granted_at: datetime | None = None
    visibility: str | None = None
    rarity: Rarity | None = None

    @property
    def hidden(self) -> bool:
        return self.state == "secret"

    @property
    def percent(self) -> int:
        return int(min(self.progress, self.target) * 100 / self.target) if self.target else 0


@dataclass(frozen=True)
class AchievementBoard:
    earned: list[BadgeCard]
    in_progress: list[BadgeCard]
    locked: list[BadgeCard]
    secret: list[BadgeCard]


def held_rows(learner_id: int) -> dict[int, LearnerAchievement]:
    """The learner's badges not revoked, by achievement id."""
    return {r.achievement_id: r for r in db.session.scalars(
        select(LearnerAchievement).where(LearnerAchievement.learner_id == learner_id,
                                         LearnerAchievement.revoked_at.is_(None)))}


def achievement_board(learner_id: int, now: datetime | None = None) -> AchievementBoard:
    """The owner's view of every achievement (§10): earned (newest first), in progress, locked, secret.

    Retired achievements appear only when earned; revoked ones not at all.
    Secret ones stay "???" until earned. A criterion already met but not
    granted (defined later, awaiting the backfill) shows its full progress.
    """
    registry = load_registry()
    held = held_rows(learner_id)
    rarity = rarities(now)
    defs = {a.id: a for a in all_achievements()}
    revoked = set(db.session.scalars(select(LearnerAchievement.achievement_id).where(
        LearnerAchievement.learner_id == learner_id, LearnerAchievement.revoked_at.is_not(None))))
    open_defs = [a for a in active().achievements if a.id not in held and a.id not in revoked]
    facts = learner_facts(learner_id, [a for a in open_defs if not a.secret])
    db.session.commit()
    board = AchievementBoard([], [], [], [])
    for aid, row in sorted(held.items(), key=lambda kv: as_utc(kv[1].granted_at), reverse=True):
        ach = defs[aid]
        target = target_of(ach.criteria, registry)
        board.earned.append(BadgeCard(ach, "earned", target, target, as_utc(row.granted_at), row.visibility,
                                      rarity.get(aid)))
    for ach in open_defs:
        if ach.secret:
            board.secret.append(BadgeCard(ach, "secret"))
            continue
        target = target_of(ach.criteria, registry)
        value = value_of(ach.criteria, facts, registry)
        state = "in_progress" if value > 0 else "locked"
        card = BadgeCard(ach, state, min(value, target), target, rarity=rarity.get(ach.id))
        (board.in_progress if state == "in_progress" else board.locked).append(card)
    board.in_progress.sort(key=lambda c: -c.percent)
    return board


@dataclass(frozen=True)
class ProfileBadge:
    """A badge as others see it on a profile: never private, revoked or unearned ones."""

    achievement: AchievementDef
    granted_at: datetime
    featured: bool


def profile_badges(learner_id: int) -> list[ProfileBadge]:
    """The learner's public badges: featured first (up to 3), then newest first. Private ones never appear."""
    defs = {a.id: a for a in all_achievements()}
    rows = db.session.execute(
        select(LearnerAchievement.achievement_id, LearnerAchievement.granted_at, LearnerAchievement.visibility)
        .where(LearnerAchievement.learner_id == learner_id, LearnerAchievement.revoked_at.is_(None),
               LearnerAchievement.visibility != "private")
        .order_by(case((LearnerAchievement.visibility == "featured", 0), else_=1),
                  LearnerAchievement.granted_at.desc(), LearnerAchievement.id.desc())).all()
    db.session.commit()
    return [ProfileBadge(defs[aid], as_utc(at), vis == "featured") for aid, at, vis in rows if aid in defs]


def earned_for_api(learner_id: int) -> list[dict]:
    """``[{key, name, granted_at, visibility}]`` of the learner's badges, oldest first (API, §13)."""
    defs = {a.id: a for a in all_achievements()}
    rows = sorted(held_rows(learner_id).values(), key=lambda r: (as_utc(r.granted_at), r.id))
    db.session.commit()
    return [{"key": defs[r.achievement_id].key, "name": defs[r.achievement_id].name,
             "granted_at": as_utc(r.granted_at), "visibility": r.visibility} for r in rows]
