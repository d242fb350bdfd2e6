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

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from thrive import metrics
from thrive.db import write_transaction
from thrive.models import Learner, LedgerEntry
from thrive.services.errors import (
    ActivityDisabled,
    ThriveError,
    UnknownActivityType,
    UnknownLearner,
    ValidationError,
)
from thrive.services.points.caps import _active_days, _cap_kinds, _is_capped, read_after_lock
from thrive.services.points.derived import (  # noqa: F401 - re-exported: the award API as other services import it
    LIFETIME_COUNTERS,
    apply_entry_to_state,
    compute_points,
    counts_for_streak,
)
from thrive.services.points.events import (  # noqa: F401 - limits re-exported for older imports
    MAX_DESCRIPTION_LENGTH,
    MAX_EVENT_KEY_LENGTH,
    MAX_FUTURE_SKEW,
    MAX_METADATA_BYTES,
)
from thrive.services.points.hooks import (  # noqa: F401 - re-exported (hook modules import them from here)
    MAX_HOOK_DEPTH,
    AwardContext,
    AwardHook,
    HookApplies,
    _always,
    _award_hooks,
    _hook_applies,
    register_award_hook,
    shared_lock_for,
)
from thrive.services.points.locks import (
    AwardTx,
    CapCounts,
    EntryRow,
    Locked,
    award_tx,
    end_award_tx,
    known_entry,
)
from thrive.services.points.registry import RuleSnapshot
from thrive.services.points.request import (  # noqa: F401 - AwardResult re-exported
    AwardResult,
    _build_request,
    _canonical_hash,
    _check_existing,
    _Request,
    _result_from_entry,
)
from thrive.services.points.statements import EXISTING_KEY, UPDATE_RESULT, lock_driver
from thrive.services.points.upgrades import _notify, _record_upgrades
from thrive.services.progression.streaks import StreakState, reached_milestone
from thrive.timeutil import as_utc, local_date, utcnow


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
            tx.keys[req.event_key] = tx.connection().execute(
                EXISTING_KEY, {"event_key": req.event_key}).scalar()
        return learner_id, locked, tx.keys[req.event_key]

    # Folding the counts into the lock is exact only where the snapshot is taken after the lock: SQLite
    # (BEGIN IMMEDIATE serialises writers). On PostgreSQL a statement that waited for the row lock still
    # reads its subqueries from the snapshot taken before the wait, so the counts follow the lock there.
    caps = _cap_kinds(rule) if rule is not None and rule.enabled and tx.sqlite else ()
    platform = tx.platform_zone()
    guess_day = local_date(req.occurred_at, platform)
    week = tx.platform_week(req.occurred_at, guess_day, platform)
    params = {"event_key": req.event_key, "activity_type": req.activity_type, "cap_day": guess_day,
              "cap_week": week}
    # A hook's advisory lock taken shared in the same round trip (PostgreSQL; e.g. the circles' week lock).
    shared = shared_lock_for(tx, req.activity_type, week) if not tx.sqlite and rule is not None and rule.enabled \
        else None
    if shared is not None:
        params["shared_key"] = shared
    connection = tx.connection()
    if req.learner_id is not None:
        params["learner_id"] = req.learner_id
        row = lock_driver("id", caps, shared is not None).execute_one(connection, params)
        if row is None:
            raise UnknownLearner(f"no learner with id {req.learner_id}")
    else:
        params["external_id"] = req.external_id
        row = lock_driver("external_id", caps, shared is not None).execute_one(connection, params)
        if row is None:
            raise UnknownLearner(f"no learner with external id {req.external_id!r}")
    if shared is not None:
        tx.memo[("shared_lock", shared)] = True
    locked = tx.adopt(row)
    learner_id = locked.state.learner_id
    if req.learner_id is None:
        tx.by_external[req.external_id] = learner_id
    if caps:
        counts = tx.caps.setdefault((learner_id, req.activity_type), CapCounts())
        m = row._mapping
        if "cap_ever" in m:
            counts.ever = m["cap_ever"]
        if "cap_week" in m:
            counts.weeks[week] = m["cap_week"]
        if "cap_day" in m and local_date(req.occurred_at, locked.timezone) == guess_day:
            counts.days[guess_day] = m["cap_day"]
    existing = tx.keys[req.event_key] = known_entry(row)
    return learner_id, locked, existing


def _award_locked(session: Session, req: _Request, depth: int, now: datetime, *,
                  write_now: bool = True) -> tuple[LedgerEntry, bool]:
    """Apply one award inside the open write transaction; return (ledger entry, duplicate).

    With ``write_now`` false (a batch) the entry may stay queued in the transaction's
    :class:`AwardTx` until its next flush; its ``id`` is set then.
    """
    tx = award_tx(session)
    registry = tx.registry()
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
    week = tx.platform_week(req.occurred_at, day, tz_name)
    if amount > 0 and not tx.sqlite:
        read_after_lock(tx, rule, learner_id, day, week)  # cap counts + e.g. the open-goal check, one statement
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
    entry = EntryRow.new(
        id=None, learner_id=learner_id, activity_type=req.activity_type, category=rule.category, points=points,
        capped=capped, event_key=req.event_key, payload_hash=req.payload_hash, description=req.description,
        meta=req.metadata, occurred_at=req.occurred_at, local_date=day, week=week, result=None, created_at=now,
        rule_version=rule.version,  # the version that priced it, from the cached snapshot (§4.2)
    )

    def stored_result() -> dict[str, Any]:
        # AwardResult fields kept on the entry (without duplicate/event_id), from the current state.
        return {
            "points_awarded": points, "capped": capped, "total_points": state.total_points,
            "weekly_points": state.weekly_points if state.weekly_week == tx.week_of_now(now) else 0,
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
                result = _result_from_entry(entry, duplicate=duplicate)  # read before the commit expires it
            finally:
                due_goals = _take_due_goals(session)
                end_award_tx(session)
        _settle_due_goals(due_goals)
        return result
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
