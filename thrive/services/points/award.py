"""The points platform: ``award()``, the single code path that changes points (§4).

Everything §4.1 lists happens in one database transaction: validate, resolve
the rule, compute the amount, apply caps, enforce idempotency, append the
ledger entry, update derived state (totals, weekly points, tier, level,
streak, lifetime counters), run award hooks (weekly goal, circle and quest
progress — registered by those services) and record tier/level-ups.

Concurrency: the learner's state row is locked first (``SELECT … FOR UPDATE``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so caps and totals are exact
when many awards for one learner race; the unique event key makes a
concurrent duplicate lose cleanly (§4.3).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from thrive import metrics
from thrive.db import write_transaction
from thrive.models import Learner, LearnerState, LedgerEntry
from thrive.services.errors import (
    ActivityDisabled,
    EventKeyConflict,
    PointsOutOfRange,
    ThriveError,
    UnknownActivityType,
    UnknownLearner,
    ValidationError,
)
from thrive.services.notifications import sending as notifications
from thrive.services.points.events import (  # noqa: F401 - limits re-exported for older imports
    MAX_DESCRIPTION_LENGTH,
    MAX_EVENT_KEY_LENGTH,
    MAX_FUTURE_SKEW,
    MAX_METADATA_BYTES,
    check_fields,
    check_instant,
)
from thrive.services.points.locks import (
    EXISTING_KEY,
    UPDATE_RESULT,
    AwardTx,
    CapCounts,
    EntryRow,
    Locked,
    award_tx,
    end_award_tx,
    lock_statement,
)
from thrive.services.points.registry import Registry, RuleSnapshot, load_registry
from thrive.services.progression.streaks import (
    StreakState,
    needs_recompute,
    reached_milestone,
    record_active_day,
    streak_from_days,
)
from thrive.timeutil import as_utc, local_date, platform_timezone_name, platform_week, utcnow

#: Nested awards (a goal completed by an award…) go at most this deep.
MAX_HOOK_DEPTH = 3

#: activity type → LearnerState lifetime counter (§5.4)
LIFETIME_COUNTERS = {
    "quiz_completed": "quizzes_completed",
    "project_created": "projects_created",
    "comment_posted": "comments_posted",
    "side_quest_completed": "side_quests_completed",
}


@dataclass(frozen=True)
class AwardResult:
    """What an award did (§4.1). Points are integers; ``event_id`` is the ledger entry id.

    ``total_points``/``weekly_points``/``tier``/``level`` are the learner's state
    after the whole award transaction (including any goal bonus it triggered).
    ``levels_gained`` and ``tiers_gained`` list every level/tier crossed.
    """

    points_awarded: int
    capped: bool
    duplicate: bool
    total_points: int
    weekly_points: int
    tier: str
    level: int
    tier_upgraded: bool
    level_upgraded: bool
    event_id: int
    activity_type: str
    event_key: str
    occurred_at: str
    current_streak: int
    levels_gained: list[int] = field(default_factory=list)
    tiers_gained: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # A flat copy (lists copied): same result as dataclasses.asdict, without its recursion.
        return {name: (list(value) if isinstance(value, list) else value)
                for name, value in ((f, getattr(self, f)) for f in _RESULT_FIELDS)}


_RESULT_FIELDS = tuple(f.name for f in fields(AwardResult))


@dataclass
class AwardContext:
    """Passed to award hooks inside the award transaction.

    ``award(activity_type, event_key=…, points=…, …)`` makes a nested award for
    the same learner in the same transaction (e.g. ``weekly_goal_completed``).
    """

    session: Session
    learner_id: int
    learner_timezone: str
    state: LearnerState
    entry: LedgerEntry
    rule: RuleSnapshot
    registry: Registry
    depth: int
    award: Callable[..., AwardResult]


AwardHook = Callable[[AwardContext], None]
#: ``applies(tx, entry) -> bool``: a cheap test whether a hook can have any effect on an entry.
HookApplies = Callable[[AwardTx, LedgerEntry], bool]
_award_hooks: list[AwardHook] = []
_hook_applies: dict[AwardHook, HookApplies] = {}


def register_award_hook(hook: AwardHook | None = None, *, applies: HookApplies | None = None):
    """Register ``hook(ctx)`` to run inside every award transaction after the entry is written.

    Hooks see capped entries too (``ctx.entry.capped``) and must be idempotent
    under the award's event key. Usable as a decorator, bare or as
    ``@register_award_hook(applies=…)``: ``applies(tx, entry)`` tells cheaply
    (in memory, or memoised per transaction in ``tx.memo``) whether the hook can
    change anything for this entry; when it answers False the hook is skipped
    and the entry may be written later in a multi-row insert (§15).
    """
    def add(fn: AwardHook) -> AwardHook:
        if fn not in _award_hooks:
            _award_hooks.append(fn)
        if applies is not None:
            _hook_applies[fn] = applies
        return fn

    return add(hook) if hook is not None else add


@dataclass(frozen=True)
class _Request:
    learner_id: int | None
    activity_type: str
    event_key: str
    occurred_at: datetime
    occurred_at_given: bool
    metadata: dict | None
    description: str | None
    points: int | None
    payload_hash: str
    external_id: str | None = None


def _canonical_hash(activity_type: str, occurred_at: datetime | None, metadata, description, points) -> str:
    payload = {
        "activity_type": activity_type,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "metadata": metadata,
        "description": description,
        "points": points,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _build_request(learner_id, activity_type, event_key, occurred_at, metadata, description, points, now,
                   external_id: str | None = None) -> _Request:
    """Check the request with the one event validator (``events.check_fields``/``check_instant``)."""
    metadata = check_fields(activity_type, event_key, metadata, description, points)
    given = occurred_at is not None
    occurred_at = check_instant(occurred_at, now) if given else now
    return _Request(
        learner_id, activity_type, event_key, occurred_at, given, metadata, description, points,
        _canonical_hash(activity_type, occurred_at if given else None, metadata, description, points), external_id,
    )

def compute_points(rule: RuleSnapshot, metadata: dict | None, points: int | None) -> int:
    """The amount an award is worth before caps (§4.2).

    A caller-given ``points`` must be allowed by the rule and within its
    bounds (``PointsOutOfRange`` otherwise). Without it: ``base_points``, or the
    ``difficulty_points`` entry for ``metadata["difficulty"]``, plus
    ``perfect_bonus_percent`` (rounded half up) for a perfect score
    (``metadata["score"] == 100`` or ``metadata["perfect"]`` true).
    """
    if points is not None:
        if not rule.allow_custom_points:
            raise PointsOutOfRange(f"{rule.activity_type} does not accept a custom amount of points")
        if points < 0 and not rule.allow_negative:
            raise PointsOutOfRange(f"{rule.activity_type} does not accept negative points")
        low = rule.min_points if rule.min_points is not None else (-math.inf if rule.allow_negative else 0)
        high = rule.max_points if rule.max_points is not None else math.inf
        if not low <= points <= high:
            raise PointsOutOfRange(f"points for {rule.activity_type} must be between {low} and {high}")
        return points
    meta = metadata or {}
    amount = rule.base_points
    difficulty = meta.get("difficulty")
    if rule.difficulty_points and isinstance(difficulty, str) and difficulty in rule.difficulty_points:
        amount = int(rule.difficulty_points[difficulty])
    score = meta.get("score")
    perfect = meta.get("perfect") is True or (
        isinstance(score, (int, float)) and not isinstance(score, bool) and score == 100
    )
    if perfect and rule.perfect_bonus_percent:
        amount = (amount * (100 + rule.perfect_bonus_percent) + 50) // 100
    return amount


def counts_for_streak(category: str | None, points: int) -> bool:
    """Whether a ledger entry makes its local day active for the streak (§5.3).

    Any award of points for taking part; not bonuses the system hands out for
    consistency (streak bonus, goals) and not admin adjustments.
    """
    return points > 0 and category is not None and category != "consistency"


def _result_from_entry(entry: LedgerEntry, *, duplicate: bool) -> AwardResult:
    stored = dict(entry.result or {})
    stored.update(duplicate=duplicate, event_id=entry.id)
    return AwardResult(**stored)


def _check_existing(existing: LedgerEntry, req: _Request, learner_id: int) -> LedgerEntry:
    if (
        existing.learner_id != learner_id
        or existing.activity_type != req.activity_type
        or existing.payload_hash != req.payload_hash
    ):
        raise EventKeyConflict(
            f"event key {req.event_key!r} was already used for a different learner, activity type or payload"
        )
    return existing


def _active_days(session: Session, learner_id: int) -> list:
    """The learner's streak-active local dates in the ledger (see ``counts_for_streak``)."""
    return list(session.scalars(
        select(_ledger.local_date).distinct().where(
            _ledger.learner_id == learner_id, _ledger.points > 0, _ledger.category.is_not(None),
            _ledger.category != "consistency",
        )
    ))


_ledger = LedgerEntry.__table__.c
_COUNT_UNCAPPED = select(func.count(_ledger.id)).where(
    _ledger.learner_id == bindparam("learner_id"),
    _ledger.activity_type == bindparam("activity_type"),
    _ledger.capped.is_(False),
)
_COUNT_BY = {
    "ever": _COUNT_UNCAPPED,
    "day": _COUNT_UNCAPPED.where(_ledger.local_date == bindparam("value")),
    "week": _COUNT_UNCAPPED.where(_ledger.week == bindparam("value")),
}


def _cap_kinds(rule: RuleSnapshot) -> tuple[str, ...]:
    return tuple(kind for kind, limit in (("day", rule.max_per_day), ("week", rule.max_per_week),
                                          ("ever", rule.max_ever)) if limit is not None)


def _is_capped(tx: AwardTx, rule: RuleSnapshot, learner_id: int, day, week) -> bool:
    """Whether an award of ``rule`` for the learner on ``day``/``week`` is over a cap (§4.2).

    Counts come from the transaction's in-memory :class:`CapCounts` (read once, kept up to date);
    a count not known yet is read after writing the queued entries.
    """
    counts = tx.caps.setdefault((learner_id, rule.activity_type), CapCounts())
    for kind, limit in (("day", rule.max_per_day), ("week", rule.max_per_week), ("ever", rule.max_ever)):
        if limit is None:
            continue
        if kind == "ever":
            n = counts.ever
        else:
            known = counts.days if kind == "day" else counts.weeks
            key = day if kind == "day" else week
            n = known.get(key, 0 if counts.complete else None)
        if n is None:
            tx.flush()
            params = {"learner_id": learner_id, "activity_type": rule.activity_type}
            if kind != "ever":
                params["value"] = day if kind == "day" else week
            n = tx.session.scalar(_COUNT_BY[kind], params) or 0
            if kind == "ever":
                counts.ever = n
            elif kind == "day":
                counts.days[day] = n
            else:
                counts.weeks[week] = n
        if n >= limit:
            return True
    return False

def apply_entry_to_state(state: LearnerState, registry: Registry, *, activity_type: str, category: str | None,
                         points: int, local_day, week: str, occurred_at: datetime,
                         active_days: Callable[[], list] | None = None) -> tuple[list[str], list[int]]:
    """Fold one ledger entry into derived state; return (tiers gained, levels gained).

    Shared by ``award()`` and ``verify`` (§4.4) so both compute state the same way.
    ``active_days()`` returns the learner's streak-active local dates so far; it is
    called only when an award lands out of order and the streak must be refolded
    (see ``streaks.needs_recompute``).
    """
    state.total_points += points
    if state.weekly_week is None or week > state.weekly_week:
        state.weekly_week, state.weekly_points = week, points
    elif week == state.weekly_week:
        state.weekly_points += points
    state.peak_points = max(state.peak_points, state.total_points)

    tiers_gained: list[str] = []
    reached = registry.tier_for_points(state.total_points)
    old_index = registry.tier_index(state.tier_key)
    new_index = registry.tier_index(reached.key)
    if new_index > old_index:
        tiers_gained = [t.key for t in registry.tiers[max(old_index, 0) + 1: new_index + 1]]
        state.tier_key = reached.key
    levels_gained: list[int] = []
    new_level = registry.level_for_points(state.total_points)
    if new_level > state.level:
        levels_gained = list(range(state.level + 1, new_level + 1))
        state.level = new_level

    if counts_for_streak(category, points):
        before = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)
        if active_days is not None and needs_recompute(before, state.last_active_date, local_day):
            streak = streak_from_days([*active_days(), local_day])
        else:
            streak = record_active_day(before, local_day)
        state.current_streak, state.longest_streak = streak.current, streak.longest
        state.streak_through, state.grace_days = streak.through, streak.grace
        if state.last_active_date is None or local_day > state.last_active_date:
            state.last_active_date = local_day
    if points > 0 and (state.last_award_at is None or as_utc(state.last_award_at) < occurred_at):
        state.last_award_at = occurred_at
    counter = LIFETIME_COUNTERS.get(activity_type)
    if counter:
        setattr(state, counter, getattr(state, counter) + 1)
    return tiers_gained, levels_gained


def _notify(tx: AwardTx, learner_id: int, prefs: dict | None, notification_type: str, title: str, *,
            celebration: str | None, body: str | None = None, data: dict | None = None, dedupe_key: str) -> None:
    """Queue the notification (if the learner wants it, §9) and the celebration of an award; written at the
    transaction's next flush, once per dedupe key (as ``notifications.notify``/``celebrate`` do)."""
    if notifications.wants(prefs, notification_type):
        tx.queue("notification", None, dict(learner_id=learner_id, type=notification_type, title=title, body=body,
                                            link="/", data=data, dedupe_key=dedupe_key, read_at=None))
    if celebration:
        tx.queue("celebration", None, dict(learner_id=learner_id, kind=celebration, title=title, body=body,
                                           data=data, dedupe_key=dedupe_key, shown_at=None))


def _record_upgrades(tx: AwardTx, learner_id: int, prefs: dict | None, registry: Registry, entry: LedgerEntry,
                     old_tier: str, tiers_gained: list[str], old_level: int, levels_gained: list[int]) -> None:
    previous = old_tier
    for key in tiers_gained:
        tx.queue("progression", entry, dict(learner_id=learner_id, kind="tier_up", from_value=previous,
                                            to_value=key, occurred_at=entry.occurred_at))
        previous = key
    previous_level = old_level
    for level in levels_gained:
        tx.queue("progression", entry, dict(learner_id=learner_id, kind="level_up", from_value=str(previous_level),
                                            to_value=str(level), occurred_at=entry.occurred_at))
        previous_level = level
    if tiers_gained:
        tier = registry.tier(tiers_gained[-1])
        title = f"You reached {tier.name}! {tier.emoji}".strip()
        key = f"tier_up:{learner_id}:{tier.key}"
        _notify(tx, learner_id, prefs, "tier_up", title, celebration=None, body=tier.tagline,
                data={"tier": tier.key}, dedupe_key=key)
        tx.queue("celebration", None, dict(learner_id=learner_id, kind="tier_up", title=title, body=tier.tagline,
                                           data={"tier": tier.key, "tiers": tiers_gained, "levels": levels_gained},
                                           dedupe_key=key, shown_at=None))
    if levels_gained:
        top = levels_gained[-1]
        title = f"Level {top}!" if len(levels_gained) == 1 else f"Level {top}! Up {len(levels_gained)} levels"
        _notify(tx, learner_id, prefs, "level_up", title, celebration=None if tiers_gained else "level_up",
                data={"levels": levels_gained}, dedupe_key=f"level_up:{learner_id}:{top}")


def _always(_tx: AwardTx, _entry: LedgerEntry) -> bool:
    return True


def _lock(tx: AwardTx, req: _Request, rule: RuleSnapshot | None, now: datetime) -> tuple[int, Locked, object]:
    """Lock the learner (once per transaction) and find the event key: (learner id, locked state, existing).

    The first award of a learner in a transaction runs one statement: the state row ``FOR UPDATE``
    with the learner's time zone and prefs, the id of an entry already holding the event key, and
    — on SQLite only, see below — the rule's uncapped counts for the award's ISO week, ever, and its
    local date in the platform time zone (used when the learner's own zone gives the same date).
    ``existing`` is None, an entry id, or a queued :class:`LedgerEntry` of this transaction.
    """
    learner_id = req.learner_id if req.learner_id is not None else tx.by_external.get(req.external_id)
    locked = tx.locked.get(learner_id) if learner_id is not None else None
    if locked is not None:
        if req.event_key not in tx.keys:
            tx.keys[req.event_key] = tx.session.scalar(EXISTING_KEY, {"event_key": req.event_key})
        return learner_id, locked, tx.keys[req.event_key]

    # Folding the counts into the lock is exact only where the snapshot is taken after the lock: SQLite
    # (BEGIN IMMEDIATE serialises writers). On PostgreSQL a statement that waited for the row lock still
    # reads its subqueries from the snapshot taken before the wait, so the counts follow the lock there.
    caps = _cap_kinds(rule) if rule is not None and rule.enabled and tx.sqlite else ()
    guess_day = local_date(req.occurred_at, platform_timezone_name())
    week = platform_week(req.occurred_at)
    params = {"event_key": req.event_key, "activity_type": req.activity_type, "cap_day": guess_day,
              "cap_week": week}
    if req.learner_id is not None:
        row = tx.session.execute(lock_statement("id", caps), {**params, "learner_id": req.learner_id}).first()
        if row is None:
            raise UnknownLearner(f"no learner with id {req.learner_id}")
    else:
        row = tx.session.execute(lock_statement("external_id", caps),
                                 {**params, "external_id": req.external_id}).first()
        if row is None:
            raise UnknownLearner(f"no learner with external id {req.external_id!r}")
        tx.by_external[req.external_id] = row.learner_id
    locked = tx.adopt(row)
    learner_id = row.learner_id
    if caps:
        counts = tx.caps.setdefault((learner_id, req.activity_type), CapCounts())
        m = row._mapping
        if "cap_ever" in m:
            counts.ever = m["cap_ever"]
        if "cap_week" in m:
            counts.weeks[week] = m["cap_week"]
        if "cap_day" in m and local_date(req.occurred_at, locked.timezone) == guess_day:
            counts.days[guess_day] = m["cap_day"]
    tx.keys[req.event_key] = row.existing_id
    return learner_id, locked, row.existing_id


def _award_locked(session: Session, req: _Request, depth: int, now: datetime, *,
                  write_now: bool = True) -> tuple[LedgerEntry, bool]:
    """Apply one award inside the open write transaction; return (ledger entry, duplicate).

    With ``write_now`` false (a batch) the entry may stay queued in the transaction's
    :class:`AwardTx` until its next flush; its ``id`` is set then.
    """
    tx = award_tx(session)
    registry = load_registry()
    rule = registry.rules.get(req.activity_type)
    learner_id, locked, existing = _lock(tx, req, rule, now)
    if existing is not None:
        entry = session.get(LedgerEntry, existing) if isinstance(existing, int) else existing
        _check_existing(entry, req, learner_id)
        if depth == 0:  # a submission repeated by a caller (not a nested award's idempotency check)
            tx.add_duplicate(entry, now)
        return entry, True

    if rule is None:
        raise UnknownActivityType(f"unknown activity type {req.activity_type!r}")
    if not rule.enabled:
        raise ActivityDisabled(f"activity type {req.activity_type!r} is disabled")
    if rule.requires_description and not (req.description or "").strip():
        raise ValidationError(f"{req.activity_type} requires a description (the reason)", code="missing_field")
    amount = compute_points(rule, req.metadata, req.points)

    state, tz_name, prefs = locked.state, locked.timezone, locked.prefs
    day = local_date(req.occurred_at, tz_name)
    week = platform_week(req.occurred_at)
    capped = amount > 0 and _is_capped(tx, rule, learner_id, day, week)
    points = 0 if capped else amount

    old_tier, old_level = state.tier_key, state.level
    old_streak = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)

    def active_days() -> list:
        tx.flush()
        return _active_days(session, learner_id)

    tiers_gained, levels_gained = apply_entry_to_state(
        state, registry, activity_type=req.activity_type, category=rule.category, points=points,
        local_day=day, week=week, occurred_at=req.occurred_at, active_days=active_days,
    )
    locked.dirty = True
    if not capped and (learner_id, rule.activity_type) in tx.caps:
        tx.caps[(learner_id, rule.activity_type)].add(day, week)
    # A plain row object (never added to the session): written by the AwardTx's Core INSERT.
    entry = EntryRow(
        learner_id=learner_id, activity_type=req.activity_type, category=rule.category, points=points,
        capped=capped, event_key=req.event_key, payload_hash=req.payload_hash, description=req.description,
        meta=req.metadata, occurred_at=req.occurred_at, local_date=day, week=week, created_at=now,
        rule_version=rule.version,  # the version that priced it, from the cached snapshot (§4.2)
    )

    def stored_result() -> dict[str, Any]:
        # AwardResult fields kept on the entry (without duplicate/event_id), from the current state.
        return {
            "points_awarded": points, "capped": capped, "total_points": state.total_points,
            "weekly_points": state.weekly_points if state.weekly_week == platform_week(now) else 0,
            "tier": state.tier_key, "level": state.level, "tier_upgraded": bool(tiers_gained),
            "level_upgraded": bool(levels_gained), "activity_type": req.activity_type,
            "event_key": req.event_key, "occurred_at": req.occurred_at.isoformat(),
            "current_streak": state.current_streak, "levels_gained": list(levels_gained),
            "tiers_gained": list(tiers_gained),
        }

    entry.result = stored_result()
    hooks = [hook for hook in _award_hooks if _hook_applies.get(hook, _always)(tx, entry)] \
        if depth < MAX_HOOK_DEPTH else []
    if tiers_gained or levels_gained:
        _record_upgrades(tx, learner_id, prefs, registry, entry, old_tier, tiers_gained, old_level,
                         levels_gained)
    new_streak = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)
    milestone = reached_milestone(old_streak, new_streak)
    if milestone:
        _notify(tx, learner_id, prefs, "streak_milestone", f"{milestone}-day streak! 🔥",
                celebration="streak_milestone", data={"days": milestone},
                dedupe_key=f"streak_milestone:{learner_id}:{day}")
    tx.add_entry(entry, now_write=write_now or bool(hooks))

    if hooks:
        def nested(activity_type: str, *, event_key: str, occurred_at=None, metadata=None, description=None,
                   points=None) -> AwardResult:
            sub = _build_request(learner_id, activity_type, event_key, occurred_at or req.occurred_at,
                                 metadata, description, points, now)
            sub_entry, duplicate = _award_locked(session, sub, depth + 1, now)
            return _result_from_entry(sub_entry, duplicate=duplicate)

        tx.flush()  # hooks may read learner_states and the ledger with SQL
        ctx = AwardContext(session, learner_id, tz_name, state, entry, rule, registry, depth, nested)
        for hook in hooks:
            hook(ctx)
        stored = stored_result()
        if stored != entry.result:
            entry.result = stored
            session.execute(UPDATE_RESULT, {"b_id": entry.id, "result": stored})
        tx.flush()
    return entry, False


def award(
    learner: Learner | int | None,
    activity_type: str,
    *,
    event_key: str,
    occurred_at: datetime | None = None,
    metadata: dict | None = None,
    description: str | None = None,
    points: int | None = None,
    now: datetime | None = None,
    external_id: str | None = None,
) -> AwardResult:
    """Award points to a learner — the ONLY code path that changes points (§4.1).

    Args:
        learner: a :class:`Learner` or its id; None with ``external_id``.
        activity_type: a key of the rule registry (§4.2).
        event_key: idempotency key, unique forever (§4.3).
        occurred_at: when it happened (UTC instant; naive = UTC); defaults to now.
            It decides the learner's local day (daily caps, streak) and the
            platform ISO week (weekly caps, weekly points).
        metadata: JSON object (e.g. ``{"difficulty": "advanced", "score": 100, "topic": "DDD"}``).
        description: free text; required (the reason) for ``admin_adjustment``.
        points: a custom amount, only where the rule allows it (within min/max).
        now: the current instant (tests); defaults to the clock.
        external_id: the learner's external id instead of ``learner`` (the API): it is
            resolved inside the award's locking statement (404 ``unknown_user`` if absent).

    Returns:
        :class:`AwardResult`. A reused event key with the same learner,
        activity type and payload returns the original result with
        ``duplicate=True`` and changes nothing. An award over a cap is written
        with 0 points and ``capped=True``.

    Raises:
        ValidationError (400), UnknownActivityType (400), UnknownLearner (404),
        ActivityDisabled (422), PointsOutOfRange (422), EventKeyConflict (422).
        On any error nothing is written.
    """
    try:
        result = _award(learner, activity_type, event_key, occurred_at, metadata, description, points, now,
                        external_id)
    except ThriveError:
        metrics.record_award(activity_type, "rejected")
        raise
    metrics.record_award_result(result)
    return result


def _award(learner, activity_type, event_key, occurred_at, metadata, description, points, now,
           external_id) -> AwardResult:
    learner_id = learner if isinstance(learner, int) or learner is None else learner.id
    if learner_id is None and external_id is None:
        raise ValidationError("a learner or an external id is required", code="missing_field")
    now = as_utc(now) if now else utcnow()
    req = _build_request(learner_id, activity_type, event_key, occurred_at, metadata, description, points, now,
                         external_id)
    try:
        with write_transaction() as session:
            try:
                entry, duplicate = _award_locked(session, req, 0, now)
                if duplicate:
                    award_tx(session).flush()  # the duplicate count: the only write of a duplicate
            finally:
                due_goals = _take_due_goals(session)
                end_award_tx(session)
        _settle_due_goals(due_goals)
        return _result_from_entry(entry, duplicate=duplicate)
    except IntegrityError:
        # A concurrent transaction wrote the same event key first (PostgreSQL): answer its result, counted
        # as a duplicate submission, in a fresh transaction (an EventKeyConflict if the payload differs).
        with write_transaction() as session:
            existing = session.scalar(select(LedgerEntry).where(LedgerEntry.event_key == req.event_key))
            if existing is None:
                raise
            owner = req.learner_id if req.learner_id is not None else session.scalar(
                select(Learner.id).where(Learner.external_id == req.external_id))
            _check_existing(existing, req, owner)
            tx = award_tx(session)
            tx.add_duplicate(existing, now)
            try:
                tx.flush()
            finally:
                end_award_tx(session)
            return _result_from_entry(existing, duplicate=True)


def _take_due_goals(session: Session) -> list[int]:
    """Circle goals the open award transaction reached (collected by the circle hook, §6.1)."""
    from thrive.services.weekly.circles.goal import take_due_goals  # weekly builds on points

    return take_due_goals(session)


def _settle_due_goals(circle_ids: list[int]) -> None:
    """The explicit settlement step after an award transaction committed: pay circle goals it reached (§6.1).

    Every path that commits awards (``award``, ``award_many``; hence the API, CLI, importers and jobs) runs it,
    so no caller depends on a web teardown or a session event. Nested awards (the bonuses themselves) settle
    what they in turn make due the same way.
    """
    if circle_ids:
        from thrive.services.weekly.circles.goal import settle_due_goals

        settle_due_goals(circle_ids)


def daily_login_key(learner_id: int, day) -> str:
    """Event key of the ``daily_login`` award for a local date (§4.3)."""
    return f"daily_login:{learner_id}:{day.isoformat()}"


def record_daily_login(learner: Learner, now: datetime | None = None) -> AwardResult:
    """Award ``daily_login`` for the learner's current local day (idempotent per day)."""
    now = as_utc(now) if now else utcnow()
    day = local_date(now, learner.timezone)
    return award(learner.id, "daily_login", event_key=daily_login_key(learner.id, day), now=now)


def __getattr__(name: str):
    """``AwardRequest`` and ``award_many`` live in ``batch.py``; still importable from here."""
    if name in ("AwardRequest", "award_many"):
        from thrive.services.points import batch

        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
