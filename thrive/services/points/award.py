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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry, ProgressionEvent
from thrive.services.errors import (
    ActivityDisabled,
    EventKeyConflict,
    PointsOutOfRange,
    UnknownActivityType,
    UnknownLearner,
    ValidationError,
)
from thrive.services.notifications import sending as notifications
from thrive.services.points.registry import Registry, RuleSnapshot, load_registry
from thrive.services.progression.streaks import (
    StreakState,
    needs_recompute,
    reached_milestone,
    record_active_day,
    streak_from_days,
)
from thrive.timeutil import as_utc, local_date, platform_week, utcnow

MAX_EVENT_KEY_LENGTH = 255
MAX_METADATA_BYTES = 8 * 1024
MAX_DESCRIPTION_LENGTH = 2000
#: Awards may be back-dated freely but not dated in the future beyond this skew.
MAX_FUTURE_SKEW = timedelta(minutes=5)
MIN_OCCURRED_YEAR = 1971
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
_award_hooks: list[AwardHook] = []


def register_award_hook(hook: AwardHook) -> AwardHook:
    """Register ``hook(ctx)`` to run inside every award transaction after the entry is written.

    Hooks see capped entries too (``ctx.entry.capped``) and must be idempotent
    under the award's event key. Usable as a decorator.
    """
    if hook not in _award_hooks:
        _award_hooks.append(hook)
    return hook


@dataclass(frozen=True)
class _Request:
    learner_id: int
    activity_type: str
    event_key: str
    occurred_at: datetime
    occurred_at_given: bool
    metadata: dict | None
    description: str | None
    points: int | None
    payload_hash: str


def _canonical_hash(activity_type: str, occurred_at: datetime | None, metadata, description, points) -> str:
    payload = {
        "activity_type": activity_type,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "metadata": metadata,
        "description": description,
        "points": points,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _build_request(learner_id, activity_type, event_key, occurred_at, metadata, description, points, now) -> _Request:
    if not isinstance(activity_type, str) or not activity_type.strip():
        raise ValidationError("activity_type is required", code="missing_field")
    if not isinstance(event_key, str) or not event_key.strip():
        raise ValidationError("event_key is required", code="missing_field")
    if len(event_key) > MAX_EVENT_KEY_LENGTH:
        raise ValidationError(f"event_key is longer than {MAX_EVENT_KEY_LENGTH} characters")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationError("metadata must be a JSON object")
        try:
            encoded = json.dumps(metadata, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"metadata is not JSON-serialisable: {exc}") from exc
        if len(encoded) > MAX_METADATA_BYTES:
            raise ValidationError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
        metadata = json.loads(encoded)
    if description is not None:
        if not isinstance(description, str):
            raise ValidationError("description must be a string")
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise ValidationError(f"description is longer than {MAX_DESCRIPTION_LENGTH} characters")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int)):
        raise ValidationError("points must be an integer")
    given = occurred_at is not None
    if given:
        if not isinstance(occurred_at, datetime):
            raise ValidationError("occurred_at must be a datetime")
        if occurred_at.year < MIN_OCCURRED_YEAR:  # also keeps local dates of any zone from overflowing
            raise ValidationError(f"occurred_at must lie after {MIN_OCCURRED_YEAR}", code="invalid_occurred_at")
        occurred_at = as_utc(occurred_at)
        if occurred_at > now + MAX_FUTURE_SKEW:
            raise ValidationError("occurred_at lies in the future", code="invalid_occurred_at")
    else:
        occurred_at = now
    return _Request(
        learner_id, activity_type, event_key, occurred_at, given, metadata, description, points,
        _canonical_hash(activity_type, occurred_at if given else None, metadata, description, points),
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


def _check_existing(existing: LedgerEntry, req: _Request) -> AwardResult:
    if (
        existing.learner_id != req.learner_id
        or existing.activity_type != req.activity_type
        or existing.payload_hash != req.payload_hash
    ):
        raise EventKeyConflict(
            f"event key {req.event_key!r} was already used for a different learner, activity type or payload"
        )
    return _result_from_entry(existing, duplicate=True)


# Statements of the award hot path, built once (bound parameters; saves building and
# cache-key work on every award).
# The counts use the table's columns (a Core statement: no ORM compile/load step).
_ledger = LedgerEntry.__table__.c
_COUNT_UNCAPPED = select(func.count(_ledger.id)).where(
    _ledger.learner_id == bindparam("learner_id"),
    _ledger.activity_type == bindparam("activity_type"),
    _ledger.capped.is_(False),
)
_COUNT_UNCAPPED_BY = {
    None: _COUNT_UNCAPPED,
    "local_date": _COUNT_UNCAPPED.where(_ledger.local_date == bindparam("value")),
    "week": _COUNT_UNCAPPED.where(_ledger.week == bindparam("value")),
}
# The learner's state row, locked, with what the award needs from the learner, and the
# id of a ledger entry already holding the event key (None normally). If a concurrent
# award commits that key while this one waits for the lock, the subquery may not see
# it; the unique constraint then rejects the insert and award() answers the duplicate.
_LOCK_STATE = (
    select(
        LearnerState, Learner.timezone, Learner.notification_prefs,
        select(LedgerEntry.id).where(LedgerEntry.event_key == bindparam("event_key"))
        .scalar_subquery().label("existing_id"),
    )
    .join(Learner, Learner.id == LearnerState.learner_id)
    .where(LearnerState.learner_id == bindparam("learner_id"))
    .with_for_update(of=LearnerState)
)


def _count_uncapped(session: Session, learner_id: int, activity_type: str, column: str | None = None,
                    value=None) -> int:
    params = {"learner_id": learner_id, "activity_type": activity_type}
    if column is not None:
        params["value"] = value
    return session.scalar(_COUNT_UNCAPPED_BY[column], params) or 0


def _active_days(session: Session, learner_id: int) -> list:
    """The learner's streak-active local dates in the ledger (see ``counts_for_streak``)."""
    return list(session.scalars(
        select(_ledger.local_date).distinct().where(
            _ledger.learner_id == learner_id, _ledger.points > 0, _ledger.category.is_not(None),
            _ledger.category != "consistency",
        )
    ))


def _is_capped(session: Session, rule: RuleSnapshot, learner_id: int, day, week) -> bool:
    if rule.max_per_day is not None and _count_uncapped(
        session, learner_id, rule.activity_type, "local_date", day
    ) >= rule.max_per_day:
        return True
    if rule.max_per_week is not None and _count_uncapped(
        session, learner_id, rule.activity_type, "week", week
    ) >= rule.max_per_week:
        return True
    if rule.max_ever is not None and _count_uncapped(session, learner_id, rule.activity_type) >= rule.max_ever:
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


def _record_upgrades(session: Session, learner_id: int, prefs: dict | None, registry: Registry, entry: LedgerEntry,
                     old_tier: str, tiers_gained: list[str], old_level: int, levels_gained: list[int]) -> None:
    previous = old_tier
    for key in tiers_gained:
        session.add(ProgressionEvent(learner_id=learner_id, ledger_entry_id=entry.id, kind="tier_up",
                                     from_value=previous, to_value=key, occurred_at=entry.occurred_at))
        previous = key
    previous_level = old_level
    for level in levels_gained:
        session.add(ProgressionEvent(learner_id=learner_id, ledger_entry_id=entry.id, kind="level_up",
                                     from_value=str(previous_level), to_value=str(level),
                                     occurred_at=entry.occurred_at))
        previous_level = level
    if tiers_gained:
        tier = registry.tier(tiers_gained[-1])
        title = f"You reached {tier.name}! {tier.emoji}".strip()
        notifications.notify(session, learner_id, "tier_up", title, prefs=prefs, body=tier.tagline,
                             link="/", data={"tier": tier.key}, dedupe_key=f"tier_up:{learner_id}:{tier.key}")
        notifications.celebrate(session, learner_id, "tier_up", title, body=tier.tagline,
                                data={"tier": tier.key, "tiers": tiers_gained, "levels": levels_gained},
                                dedupe_key=f"tier_up:{learner_id}:{tier.key}")
    if levels_gained:
        top = levels_gained[-1]
        title = f"Level {top}!" if len(levels_gained) == 1 else f"Level {top}! Up {len(levels_gained)} levels"
        notifications.notify(session, learner_id, "level_up", title, prefs=prefs, link="/",
                             data={"levels": levels_gained}, dedupe_key=f"level_up:{learner_id}:{top}")
        if not tiers_gained:
            notifications.celebrate(session, learner_id, "level_up", title, data={"levels": levels_gained},
                                    dedupe_key=f"level_up:{learner_id}:{top}")


def _award_locked(session: Session, req: _Request, depth: int, now: datetime) -> AwardResult:
    row = session.execute(_LOCK_STATE, {"learner_id": req.learner_id, "event_key": req.event_key}).first()
    if row is None:
        raise UnknownLearner(f"no learner with id {req.learner_id}")
    state, tz_name, prefs, existing_id = row

    if existing_id is not None:
        return _check_existing(session.get(LedgerEntry, existing_id), req)

    registry = load_registry()
    rule = registry.rules.get(req.activity_type)
    if rule is None:
        raise UnknownActivityType(f"unknown activity type {req.activity_type!r}")
    if not rule.enabled:
        raise ActivityDisabled(f"activity type {req.activity_type!r} is disabled")
    if rule.requires_description and not (req.description or "").strip():
        raise ValidationError(f"{req.activity_type} requires a description (the reason)", code="missing_field")
    amount = compute_points(rule, req.metadata, req.points)

    day = local_date(req.occurred_at, tz_name)
    week = platform_week(req.occurred_at)
    capped = amount > 0 and _is_capped(session, rule, req.learner_id, day, week)
    points = 0 if capped else amount

    old_tier, old_level = state.tier_key, state.level
    old_streak = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)
    tiers_gained, levels_gained = apply_entry_to_state(
        state, registry, activity_type=req.activity_type, category=rule.category, points=points,
        local_day=day, week=week, occurred_at=req.occurred_at,
        active_days=lambda: _active_days(session, req.learner_id),
    )
    entry = LedgerEntry(
        learner_id=req.learner_id, activity_type=req.activity_type, category=rule.category, points=points,
        capped=capped, event_key=req.event_key, payload_hash=req.payload_hash, description=req.description,
        meta=req.metadata, occurred_at=req.occurred_at, local_date=day, week=week,
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

    # Written with the INSERT; rewritten below only if a hook changes the state.
    entry.result = stored_result()
    session.add(entry)
    session.flush()
    _record_upgrades(session, req.learner_id, prefs, registry, entry, old_tier, tiers_gained, old_level,
                     levels_gained)
    new_streak = StreakState(state.current_streak, state.longest_streak, state.streak_through, state.grace_days)
    milestone = reached_milestone(old_streak, new_streak)
    if milestone:
        title = f"{milestone}-day streak! 🔥"
        notifications.notify(session, req.learner_id, "streak_milestone", title, prefs=prefs, link="/",
                             data={"days": milestone}, dedupe_key=f"streak_milestone:{req.learner_id}:{day}")
        notifications.celebrate(session, req.learner_id, "streak_milestone", title, data={"days": milestone},
                                dedupe_key=f"streak_milestone:{req.learner_id}:{day}")

    if _award_hooks and depth < MAX_HOOK_DEPTH:
        def nested(activity_type: str, *, event_key: str, occurred_at=None, metadata=None, description=None,
                   points=None) -> AwardResult:
            sub = _build_request(req.learner_id, activity_type, event_key, occurred_at or req.occurred_at,
                                 metadata, description, points, now)
            return _award_locked(session, sub, depth + 1, now)

        ctx = AwardContext(session, req.learner_id, tz_name, state, entry, rule, registry, depth, nested)
        for hook in list(_award_hooks):
            hook(ctx)

    stored = stored_result()
    if stored != entry.result:
        entry.result = stored
    return _result_from_entry(entry, duplicate=False)


def award(
    learner: Learner | int,
    activity_type: str,
    *,
    event_key: str,
    occurred_at: datetime | None = None,
    metadata: dict | None = None,
    description: str | None = None,
    points: int | None = None,
    now: datetime | None = None,
) -> AwardResult:
    """Award points to a learner — the ONLY code path that changes points (§4.1).

    Args:
        learner: a :class:`Learner` or its id.
        activity_type: a key of the rule registry (§4.2).
        event_key: idempotency key, unique forever (§4.3).
        occurred_at: when it happened (UTC instant; naive = UTC); defaults to now.
            It decides the learner's local day (daily caps, streak) and the
            platform ISO week (weekly caps, weekly points).
        metadata: JSON object (e.g. ``{"difficulty": "advanced", "score": 100, "topic": "DDD"}``).
        description: free text; required (the reason) for ``admin_adjustment``.
        points: a custom amount, only where the rule allows it (within min/max).
        now: the current instant (tests); defaults to the clock.

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
    learner_id = learner if isinstance(learner, int) else learner.id
    now = as_utc(now) if now else utcnow()
    req = _build_request(learner_id, activity_type, event_key, occurred_at, metadata, description, points, now)
    try:
        with write_transaction() as session:
            try:
                result = _award_locked(session, req, 0, now)
            finally:
                due_goals = _take_due_goals(session)
        _settle_due_goals(due_goals)
        return result
    except IntegrityError:
        # A concurrent transaction wrote the same event key first (PostgreSQL).
        existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.event_key == req.event_key))
        db.session.commit()
        if existing is None:
            raise
        return _check_existing(existing, req)


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


@dataclass(frozen=True)
class AwardRequest:
    """One award for :func:`award_many`: same fields as :func:`award`'s arguments."""

    learner_id: int
    activity_type: str
    event_key: str
    occurred_at: datetime | None = None
    metadata: dict | None = None
    description: str | None = None
    points: int | None = None


def award_many(items: list[AwardRequest], *, now: datetime | None = None) -> list[AwardResult | Exception]:
    """Award a batch through the same code path as :func:`award`, in one transaction (§4.1).

    Used by the batch API and the importers: one commit per batch instead of
    one per event. Each item gets its :class:`AwardResult` or the
    :class:`ThriveError` that rejected it (validation, unknown learner or type,
    disabled, out of range, key conflict) — a rejected item writes nothing and
    does not affect the others, because every check runs before anything is
    added to the session. Items are applied in order, so a repeated event key
    inside one batch answers as a duplicate of the earlier item.
    If the database refuses the batch (a concurrent writer took an event key
    first), it is retried item by item through :func:`award`.
    """
    from thrive.services.errors import ThriveError

    now = as_utc(now) if now else utcnow()
    results: list[AwardResult | Exception] = []
    try:
        with write_transaction() as session:
            try:
                for item in items:
                    try:
                        req = _build_request(item.learner_id, item.activity_type, item.event_key, item.occurred_at,
                                             item.metadata, item.description, item.points, now)
                        results.append(_award_locked(session, req, 0, now))
                    except ThriveError as exc:
                        results.append(exc)
            finally:
                due_goals = _take_due_goals(session)
        _settle_due_goals(due_goals)
        return results
    except IntegrityError:
        out: list[AwardResult | Exception] = []
        for item in items:
            try:
                out.append(award(item.learner_id, item.activity_type, event_key=item.event_key,
                                 occurred_at=item.occurred_at, metadata=item.metadata,
                                 description=item.description, points=item.points, now=now))
            except ThriveError as exc:
                out.append(exc)
        return out
