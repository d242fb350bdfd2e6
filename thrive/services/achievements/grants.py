"""Granting achievements inside the award transaction; revocation; badge visibility (§4.1, §10).

**When** (:func:`_on_award`, an award hook): an award can only make a
criterion true by crossing its threshold, so the hook looks at what *this*
ledger entry changed and exits without a query in the common case:

- ``counter``/``quests``: the entry's type feeds the counter and the counter
  now equals the target (it moves by one per entry, under the state lock);
- ``activity_count``/``circle_goals``: a non-capped entry of the type, and a
  count of such entries (bounded by the largest target) equals the target —
  one indexed count, only for types some achievement counts;
- ``tier``/``level``: the target is among the entry's tiers/levels gained;
- ``points``: the entry moved the total across the target;
- ``streak``: a streak-counting entry while the learner stands at their
  longest streak and it reaches the target.

Candidates are checked against the badges already held (one query, only
when something crossed). **Never twice**: the award runs under the learner's
state lock, every other grant path takes the same lock, and
``(learner_id, achievement_id)`` is unique — a revoked badge keeps its row
and is never granted again automatically.

**Reward**: ``achievement_earned`` through the nested award (event key
``achievement:<achievement>:<learner>``, points = the achievement's reward,
25–100), dated at the entry that earned it, plus a celebration and an
``achievement_earned`` notification. An award nested too deep to run hooks
itself is examined here (the same crossing rules), so chains are not lost.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.models import Learner, LearnerAchievement, LearnerState, LedgerEntry
from thrive.models.achievements import MAX_FEATURED, VISIBILITIES
from thrive.services.achievements.catalog import AchievementDef, Catalog, active, get_achievement
from thrive.services.catalogs import catalog_in_transaction
from thrive.services.errors import NotFound, ThriveError, UnknownLearner, ValidationError
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import (
    LIFETIME_COUNTERS,
    MAX_HOOK_DEPTH,
    AwardContext,
    counts_for_streak,
    register_award_hook,
)
from thrive.services.points.locks import award_tx
from thrive.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

REWARD_ACTIVITY = "achievement_earned"
REWARD_CATEGORY = "challenge"
MAX_REASON_LENGTH = 500


def achievement_event_key(achievement_id: int, learner_id: int) -> str:
    """Event key of the ``achievement_earned`` award of one badge (§4.3)."""
    return f"achievement:{achievement_id}:{learner_id}"


@dataclass(frozen=True)
class _Delta:
    """What one ledger entry changed, as far as criteria care."""

    activity_type: str
    category: str | None
    points: int
    capped: bool
    total_after: int
    tiers_gained: tuple[str, ...]
    levels_gained: tuple[int, ...]


def _count_capped_at(session: Session, learner_id: int, activity_type: str, limit: int) -> int:
    """Non-capped entries of ``activity_type`` for the learner, counted up to ``limit`` (bounded cost)."""
    inner = (select(LedgerEntry.id).where(LedgerEntry.learner_id == learner_id,
                                          LedgerEntry.activity_type == activity_type,
                                          LedgerEntry.capped.is_(False)).limit(limit).subquery())
    return session.scalar(select(func.count()).select_from(inner)) or 0


def _crossed(ctx: AwardContext, catalog: Catalog, delta: _Delta) -> list[AchievementDef]:
    """Achievements whose criteria this change may have just made true (see the module docstring)."""
    found = _counter_hits(ctx.state, catalog, delta)
    defs = catalog.by_activity.get(delta.activity_type)
    if defs and not delta.capped:
        top = max(a.criteria["target"] for a in defs)
        count = _count_capped_at(ctx.session, ctx.learner_id, delta.activity_type, top + 1)
        found += [a for a in defs if count == a.criteria["target"]]
    return found + _other_hits(ctx.state, catalog, delta)


def _delta_of(entry, state) -> _Delta:
    result = entry.result or {}
    return _Delta(entry.activity_type, entry.category, entry.points, bool(entry.capped),
                  int(result.get("total_points", state.total_points)), tuple(result.get("tiers_gained") or ()),
                  tuple(result.get("levels_gained") or ()))


_CATALOG_MEMO = "achievements.catalog"


def _may_apply(tx, entry) -> bool:
    """Whether :func:`_crossed` can find anything for the entry, in memory (an activity count needs SQL: True).

    The catalog it reads is kept for the hook in the award transaction's memo (read once per transaction).
    """
    catalog = catalog_in_transaction(tx, _CATALOG_MEMO, active)
    if not catalog.by_id:
        return False
    locked = tx.locked.get(entry.learner_id)
    if locked is None or (catalog.by_activity.get(entry.activity_type) and not entry.capped):
        return True
    delta = _delta_of(entry, locked.state)
    return bool(_counter_hits(locked.state, catalog, delta) or _other_hits(locked.state, catalog, delta))


def _counter_hits(state, catalog: Catalog, delta: _Delta) -> list[AchievementDef]:
    counter = LIFETIME_COUNTERS.get(delta.activity_type)
    if counter and counter in catalog.by_counter:
        value = getattr(state, counter)
        return [a for a in catalog.by_counter[counter] if value == a.criteria["target"]]
    return []


def _other_hits(state, catalog: Catalog, delta: _Delta) -> list[AchievementDef]:
    """Streak, tier, level and points criteria (all in memory)."""
    found: list[AchievementDef] = []
    if catalog.streak and counts_for_streak(delta.category, delta.points) \
            and state.current_streak == state.longest_streak:
        found += [a for a in catalog.streak if state.current_streak >= a.criteria["target"]]
    if delta.tiers_gained:
        found += [a for a in catalog.tier if a.criteria["tier"] in delta.tiers_gained]
    if delta.levels_gained:
        found += [a for a in catalog.level if a.criteria["target"] in delta.levels_gained]
    if catalog.points and delta.points > 0:
        before = delta.total_after - delta.points
        found += [a for a in catalog.points if before < a.criteria["target"] <= delta.total_after]
    return found


@register_award_hook(applies=_may_apply)
def _on_award(ctx: AwardContext) -> None:
    """Award hook: grant the achievements this entry made true (module docstring)."""
    catalog = catalog_in_transaction(award_tx(ctx.session), _CATALOG_MEMO, active)
    if not catalog.by_id:
        return
    entry = ctx.entry
    pending = [_delta_of(entry, ctx.state)]
    while pending:
        found = _crossed(ctx, catalog, pending.pop())
        if found:
            pending += _grant(ctx, found, as_utc(entry.occurred_at))


def _grant(ctx: AwardContext, found: list[AchievementDef], at: datetime) -> list[_Delta]:
    """Grant the candidates not held yet; return the changes of reward awards whose hooks did not run."""
    session = ctx.session
    ids = sorted({a.id for a in found})
    held = set(session.scalars(select(LearnerAchievement.achievement_id).where(
        LearnerAchievement.learner_id == ctx.learner_id, LearnerAchievement.achievement_id.in_(ids))))
    todo = [a for a in {a.id: a for a in found}.values() if a.id not in held]
    if not todo:
        return []
    unhooked: list[_Delta] = []
    prefs = session.scalar(select(Learner.notification_prefs).where(Learner.id == ctx.learner_id)) or {}
    for ach in todo:
        row = LearnerAchievement(learner_id=ctx.learner_id, achievement_id=ach.id, granted_at=at, source="award",
                                 visibility="shown")
        session.add(row)
        session.flush()
        points = 0
        try:
            result = ctx.award(REWARD_ACTIVITY, event_key=achievement_event_key(ach.id, ctx.learner_id),
                               occurred_at=at, points=ach.reward, description=f"Achievement earned: {ach.name}",
                               metadata={"achievement": ach.key, "achievement_id": ach.id, "name": ach.name})
            row.ledger_entry_id = result.event_id
            points = result.points_awarded
            if ctx.depth + 1 >= MAX_HOOK_DEPTH and not result.duplicate:
                unhooked.append(_Delta(REWARD_ACTIVITY, REWARD_CATEGORY, result.points_awarded, result.capped,
                                       result.total_points, tuple(result.tiers_gained), tuple(result.levels_gained)))
        except ThriveError as exc:  # the badge stands even if its reward is refused
            log.warning("achievement %s granted to learner %s without reward: %s", ach.key, ctx.learner_id, exc)
        title = f"Achievement unlocked: {ach.name} {ach.icon}".strip()
        data = {"achievement": ach.key, "achievement_id": ach.id, "points": points}
        dedupe = f"achievement_earned:{ach.id}:{ctx.learner_id}"
        body = ach.criteria_text
        notifications.notify(session, ctx.learner_id, "achievement_earned", title, prefs=prefs, body=body,
                             link="/achievements", data=data, dedupe_key=dedupe)
        notifications.celebrate(session, ctx.learner_id, "achievement", title, body=body, data=data,
                                dedupe_key=dedupe)
    return unhooked


# ------------------------------------------------------------------ staff and learner actions

def lock_learner(session: Session, learner_id: int) -> LearnerState:
    """Take the learner's state lock (the award lock) in ``session``; raise :class:`UnknownLearner`."""
    state = session.scalar(select(LearnerState).where(LearnerState.learner_id == learner_id).with_for_update())
    if state is None:
        raise UnknownLearner(f"no learner with id {learner_id}")
    return state


def _held_row(session: Session, learner_id: int, achievement_id: int) -> LearnerAchievement:
    row = session.scalar(select(LearnerAchievement).where(LearnerAchievement.learner_id == learner_id,
                                                          LearnerAchievement.achievement_id == achievement_id))
    if row is None or row.revoked_at is not None:
        raise NotFound("the learner does not hold this achievement", code="not_held")
    return row


def revoke(learner_id: int, achievement_id: int, *, actor, reason: str, now: datetime | None = None) -> dict:
    """Revoke a badge (staff only), audited in the same transaction. Returns the row's ``{before, after}``.

    ``actor`` is the staff member (a :class:`~thrive.models.Learner`), written
    with the reason to the audit log (action ``achievement.revoke``, target
    ``learner_achievement`` ``<learner>:<achievement>``).
    ``reason`` is required (1–500 characters). The row stays (revoked), so the
    badge is never granted again automatically; points already awarded stay
    in the ledger (an admin adjustment corrects them if needed, §4.4).
    Raises :class:`ValidationError` (``missing_field``) and :class:`NotFound` (``not_held``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("a reason is required to revoke an achievement", code="missing_field")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    get_achievement(achievement_id)
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        lock_learner(session, learner_id)
        row = _held_row(session, learner_id, achievement_id)
        before = {"granted_at": as_utc(row.granted_at).isoformat(), "revoked_at": None}
        row.revoked_at, row.revoked_reason, row.revoked_by = now, reason, actor.id
        if row.visibility == "featured":
            row.visibility = "shown"
        after = {"granted_at": before["granted_at"], "revoked_at": now.isoformat(), "reason": reason}
        from thrive.services.admin.audit import record

        record(actor, "achievement.revoke", "learner_achievement", f"{learner_id}:{achievement_id}", before, after,
               session=session)
    return {"before": before, "after": after}


def set_visibility(learner_id: int, achievement_id: int, visibility: str) -> str:
    """Set how one of the learner's badges shows on their profile: ``shown``, ``featured`` or ``private``.

    At most :data:`MAX_FEATURED` (3) badges are featured (``too_many_featured``
    otherwise). Returns the new visibility. Raises :class:`ValidationError`,
    :class:`NotFound` (``not_held``).
    """
    if visibility not in VISIBILITIES:
        raise ValidationError(f"visibility must be one of {', '.join(VISIBILITIES)}", code="invalid_visibility")
    with write_transaction() as session:
        lock_learner(session, learner_id)
        row = _held_row(session, learner_id, achievement_id)
        if visibility == "featured" and row.visibility != "featured":
            featured = session.scalar(select(func.count()).select_from(LearnerAchievement).where(
                LearnerAchievement.learner_id == learner_id, LearnerAchievement.visibility == "featured",
                LearnerAchievement.revoked_at.is_(None))) or 0
            if featured >= MAX_FEATURED:
                raise ValidationError(f"you can feature at most {MAX_FEATURED} badges", code="too_many_featured")
        row.visibility = visibility
    return visibility
