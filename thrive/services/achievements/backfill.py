"""Backfill: grant existing learners the achievements they already meet, dated from the ledger (§4.4, §10).

``flask thrive grant-achievements`` and the admin button call
:func:`backfill`. For every learner it replays the ledger in time order
(``occurred_at``, then id) through the same fold as ``award()`` and
``verify`` (``apply_entry_to_state``) plus counts of non-capped awards per
activity type, and finds the first entry after which each active, not yet
held achievement's criteria are true: that entry's ``occurred_at`` is the
badge's ``granted_at`` — the moment the threshold was crossed.

Backfilled badges are quiet and change no points: no notification, no
celebration, no feed item and no ``achievement_earned`` award (a reward
dated in the past would rewrite weeks, streaks and tiers that learners
already saw; the ledger stays exactly as it was, so ``verify`` stays clean).
Grants take the learner's state lock and skip badges held meanwhile (or
revoked), so a backfill racing live awards never grants twice.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from more_itertools import chunked
from sqlalchemy import select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Achievement, Learner, LearnerAchievement, LedgerEntry
from thrive.models.achievements import COUNTERS
from thrive.services.achievements.catalog import AchievementDef, active
from thrive.services.achievements.criteria import Facts, activity_type_of, is_met
from thrive.services.achievements.grants import lock_learner
from thrive.services.errors import NotFound
from thrive.services.points.award import apply_entry_to_state
from thrive.services.points.registry import Registry, load_registry
from thrive.timeutil import as_utc

#: Learners granted per write transaction.
GRANT_CHUNK = 200


@dataclass
class BackfillSummary:
    """Counts of a backfill: learners replayed, badges granted (per achievement key), ``dry_run``."""

    learners: int = 0
    granted: int = 0
    by_achievement: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def _blank(registry: Registry) -> SimpleNamespace:
    return SimpleNamespace(
        total_points=0, weekly_points=0, weekly_week=None, peak_points=0, tier_key=registry.tiers[0].key, level=1,
        current_streak=0, longest_streak=0, streak_through=None, grace_days=0, last_active_date=None,
        last_award_at=None, **{c: 0 for c in COUNTERS},
    )


def _facts(state: SimpleNamespace, counts: dict[str, int], registry: Registry) -> Facts:
    return Facts(counters={c: getattr(state, c) for c in COUNTERS}, activity_counts=counts,
                 longest_streak=state.longest_streak, tier_index=registry.tier_index(state.tier_key),
                 level=state.level, total_points=state.total_points)


def first_met(entries: Iterable, wanted: list[AchievementDef], registry: Registry) -> dict[int, datetime]:
    """Replay one learner's ``entries`` (time order); the instant each of ``wanted`` first became true.

    ``entries`` yield ``(activity_type, category, points, capped, local_date, week, occurred_at)``.
    Pure: no database access. Achievements never met are absent.
    """
    state = _blank(registry)
    counts: dict[str, int] = {}
    tracked = {activity_type_of(a.criteria) for a in wanted} - {None}
    open_ = list(wanted)
    found: dict[int, datetime] = {}
    for activity_type, category, points, capped, day, week, occurred_at in entries:
        at = as_utc(occurred_at)
        apply_entry_to_state(state, registry, activity_type=activity_type, category=category, points=points,
                             local_day=day, week=week, occurred_at=at)
        if activity_type in tracked and not capped:
            counts[activity_type] = counts.get(activity_type, 0) + 1
        facts = _facts(state, counts, registry)
        still = []
        for ach in open_:
            if is_met(ach.criteria, facts, registry):
                found[ach.id] = at
            else:
                still.append(ach)
        open_ = still
        if not open_:
            break
    return found


def _learner_entries(learner_ids: list[int]):
    q = (
        select(LedgerEntry.learner_id, LedgerEntry.activity_type, LedgerEntry.category, LedgerEntry.points,
               LedgerEntry.capped, LedgerEntry.local_date, LedgerEntry.week, LedgerEntry.occurred_at)
        .where(LedgerEntry.learner_id.in_(learner_ids))
        .order_by(LedgerEntry.learner_id, LedgerEntry.occurred_at, LedgerEntry.id)
    )
    by: dict[int, list] = {}
    for row in db.session.execute(q):
        by.setdefault(row[0], []).append(tuple(row[1:]))
    return by


def backfill(*, learner_ids: list[int] | None = None, achievement_ids: list[int] | None = None,
             dry_run: bool = False, progress: Callable[[int], None] | None = None) -> BackfillSummary:
    """Grant every learner the active achievements they already meet (see the module docstring).

    Args:
        learner_ids: only these learners (default: every learner with a ledger entry).
        achievement_ids: only these achievements (default: every active one).
        dry_run: compute and count, write nothing.
        progress: called with the number of learners done after each chunk.

    Returns a :class:`BackfillSummary`. Idempotent: a second run grants nothing.
    """
    registry = load_registry()
    defs = [a for a in active().achievements if achievement_ids is None or a.id in achievement_ids]
    summary = BackfillSummary(dry_run=dry_run)
    if not defs:
        return summary
    q = select(LedgerEntry.learner_id).distinct().join(Learner, Learner.id == LedgerEntry.learner_id)
    if learner_ids is not None:
        q = q.where(LedgerEntry.learner_id.in_(sorted(set(learner_ids))))
    ids = sorted(db.session.scalars(q))
    db.session.commit()
    def_ids = [a.id for a in defs]
    for chunk in chunked(ids, GRANT_CHUNK):
        held: dict[int, set[int]] = {}
        for lid, aid in db.session.execute(select(LearnerAchievement.learner_id, LearnerAchievement.achievement_id)
                                           .where(LearnerAchievement.learner_id.in_(chunk),
                                                  LearnerAchievement.achievement_id.in_(def_ids))):
            held.setdefault(lid, set()).add(aid)
        entries = _learner_entries(chunk)
        db.session.commit()
        grants: dict[int, dict[int, datetime]] = {}
        for learner_id in chunk:
            wanted = [a for a in defs if a.id not in held.get(learner_id, set())]
            if wanted:
                met = first_met(entries.get(learner_id, []), wanted, registry)
                if met:
                    grants[learner_id] = met
        summary.learners += len(chunk)
        if grants and not dry_run:
            _write(grants, defs, summary)
        elif grants:
            for met in grants.values():
                _count(summary, defs, met)
        if progress:
            progress(len(chunk))
    return summary


def ids_for(usernames: Iterable[str] = (), keys: Iterable[str] = ()) -> tuple[list[int] | None, list[int] | None]:
    """``(learner ids, achievement ids)`` of a backfill's scope given by usernames and achievement keys.

    An empty list of names means "all" (``None``). Raises :class:`NotFound`
    naming every unknown username (``unknown_user``) or key (``unknown_achievement``).
    """
    def resolve(model, column, names: list[str], what: str, code: str) -> list[int] | None:
        if not names:
            return None
        found = dict(db.session.execute(select(column, model.id).where(column.in_(names))).all())
        db.session.commit()
        missing = sorted(set(names) - set(found))
        if missing:
            raise NotFound(f"unknown {what}(s): {', '.join(missing)}", code=code)
        return list(found.values())

    return (resolve(Learner, Learner.username, list(usernames), "learner", "unknown_user"),
            resolve(Achievement, Achievement.key, list(keys), "achievement", "unknown_achievement"))


def _count(summary: BackfillSummary, defs: list[AchievementDef], met: dict[int, datetime]) -> None:
    keys = {a.id: a.key for a in defs}
    for aid in met:
        summary.granted += 1
        summary.by_achievement[keys[aid]] = summary.by_achievement.get(keys[aid], 0) + 1


def _write(grants: dict[int, dict[int, datetime]], defs: list[AchievementDef], summary: BackfillSummary) -> None:
    with write_transaction() as session:
        for learner_id in sorted(grants):
            lock_learner(session, learner_id)
            already = set(session.scalars(select(LearnerAchievement.achievement_id).where(
                LearnerAchievement.learner_id == learner_id)))
            met = {aid: at for aid, at in grants[learner_id].items() if aid not in already}
            for aid, at in met.items():
                session.add(LearnerAchievement(learner_id=learner_id, achievement_id=aid, granted_at=at,
                                               source="backfill", visibility="shown"))
            _count(summary, defs, met)
