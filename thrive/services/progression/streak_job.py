"""The hourly streak job (§5.3, §6.3): streak bonuses, grace days, broken streaks, at-risk reminders.

Every run looks at the instant ``at`` and, per learner time zone, at the
learner's local *today* (the day in progress) and *yesterday* (the day that
ended — at local midnight, or earlier if the scheduler missed hours):

1. **Streak bonus** for learners active on a day that has ended (yesterday,
   and — so a scheduler outage or a late back-dated award loses nothing — the
   day before): ``streak_bonus`` of ``THRIVE_STREAK_BONUS_PER_DAY`` ×
   min(streak on that day, ``THRIVE_STREAK_BONUS_MAX_DAYS``) points, event key
   ``streak:<learner id>:<date>``, dated at the last second of that local day.
   ``streak_bonus`` is a *consistency* award, so it never makes a day active.
2. **Missed days** are persisted with :func:`streaks.settle` (the same pure
   function pages and ``verify`` use, so stored state stays equal to a
   ledger replay): a banked grace day covers a missed day (``grace_day_used``
   notification, deduped per learner and date); otherwise the current streak
   drops to 0.
3. From 20:00 local time, **streak at risk** reminders to learners with a
   streak of at least 3 days and no activity today (deduped per learner and
   date; honours notification preferences).

Everything is keyed (event keys, notification dedupe keys, ``settle`` is
idempotent), so running the job again for the same hour — or any hour of the
same day — awards and notifies nothing twice. Candidate learners are found
with set-based queries per group of time zones sharing a local date (at most
three groups at any instant); the work per hour is proportional to the
learners whose day just ended.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from more_itertools import chunked
from sqlalchemy import String, cast, exists, literal, select

from thrive.db import WriteSlicer, write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, LedgerEntry, Notification
from thrive.services.errors import EventKeyConflict, ThriveError
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardRequest, award_many, counts_for_streak
from thrive.services.points.registry import load_registry
from thrive.services.progression.state import effective_streak
from thrive.services.progression.streaks import StreakState, record_active_day, settle
from thrive.timeutil import as_utc, local_day_bounds, utcnow, zone

log = logging.getLogger(__name__)

STREAK_BONUS = "streak_bonus"
#: Local hour from which "streak at risk" reminders go out (§6.3).
AT_RISK_HOUR = 20
#: Minimum current streak (days) worth a reminder.
AT_RISK_MIN_STREAK = 3
#: Ended days checked for a missing bonus: yesterday and the day before.
BONUS_LOOKBACK_DAYS = 2
#: Learners per write transaction.
CHUNK = 500


def bonus_key(learner_id: int, day: date) -> str:
    """Event key of the streak bonus for a learner's local date (§4.3)."""
    return f"streak:{learner_id}:{day.isoformat()}"


def bonus_points(streak_days: int) -> int:
    """``THRIVE_STREAK_BONUS_PER_DAY`` × min(``streak_days``, ``THRIVE_STREAK_BONUS_MAX_DAYS``) points (§4.2)."""
    per_day = int(current_app.config.get("THRIVE_STREAK_BONUS_PER_DAY", 5))
    max_days = int(current_app.config.get("THRIVE_STREAK_BONUS_MAX_DAYS", 100))
    return per_day * min(max(streak_days, 0), max_days)


def bonus_instant(day: date, tz_name: str) -> datetime:
    """The UTC instant of the last second of local date ``day`` (when a day's bonus is dated)."""
    return local_day_bounds(day, tz_name)[1] - timedelta(seconds=1)


def _zones() -> list[str]:
    names = list(db.session.scalars(select(Learner.timezone).distinct()))
    db.session.commit()
    out = []
    for name in names:
        try:
            zone(name)
            out.append(name)
        except ValueError:
            log.warning("skipping learners with unknown time zone %r", name)
    return sorted(out)


def _key_expr(prefix: str, suffix: str):
    """SQL for ``'<prefix><learner id><suffix>'`` (matches Python-built keys; unique-index probe)."""
    return literal(prefix) + cast(LearnerState.learner_id, String) + literal(suffix)


def streak_as_of(learner_id: int, day: date) -> int:
    """The learner's streak (days) at the end of local date ``day``, replayed from the ledger.

    Folds the distinct active local dates up to ``day`` in date order through
    :func:`streaks.record_active_day` (grace days included); 0 when ``day``
    itself was not active.
    """
    q = (
        select(LedgerEntry.local_date, LedgerEntry.category, LedgerEntry.points)
        .where(LedgerEntry.learner_id == learner_id, LedgerEntry.local_date <= day, LedgerEntry.points > 0)
    )
    days = sorted({d for d, category, points in db.session.execute(q) if counts_for_streak(category, points)})
    state = StreakState()
    for d in days:
        state = record_active_day(state, d)
    return state.current if state.through == day else 0


def _award_bonuses(day: date, zones_: list[str], at: datetime, counts: dict[str, Any]) -> None:
    registry = load_registry()
    rule = registry.rules.get(STREAK_BONUS)
    if rule is None or not rule.enabled:
        counts["bonus_disabled"] = True
        return
    lo = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    hi = datetime.combine(day + timedelta(days=2), time(0), tzinfo=UTC)
    active_on_day = exists().where(
        LedgerEntry.learner_id == LearnerState.learner_id,
        LedgerEntry.occurred_at >= lo, LedgerEntry.occurred_at < hi, LedgerEntry.local_date == day,
        LedgerEntry.points > 0, LedgerEntry.category.is_not(None), LedgerEntry.category != "consistency",
    )
    already = exists().where(LedgerEntry.event_key == _key_expr("streak:", f":{day.isoformat()}"))
    rows = db.session.execute(
        select(LearnerState.learner_id, Learner.timezone, LearnerState.current_streak, LearnerState.streak_through,
               LearnerState.last_active_date)
        .join(Learner, Learner.id == LearnerState.learner_id)
        .where(Learner.timezone.in_(zones_), Learner.is_active_account.is_(True),
               LearnerState.last_active_date >= day, active_on_day, ~already)
        .order_by(LearnerState.learner_id)
    ).all()
    items: list[AwardRequest] = []
    for learner_id, tz_name, current, through, last_active in rows:
        if last_active == day and through == day and current > 0:
            streak = current
        else:
            streak = streak_as_of(learner_id, day)
        if streak <= 0:
            continue
        points = bonus_points(streak)
        if rule.max_points is not None and points > rule.max_points:
            log.warning("streak bonus %s clamped to the rule's maximum %s", points, rule.max_points)
            points = rule.max_points
        if rule.min_points is not None and points < rule.min_points:
            points = rule.min_points
        items.append(AwardRequest(
            learner_id, STREAK_BONUS, bonus_key(learner_id, day), occurred_at=bonus_instant(day, tz_name),
            metadata={"streak_days": streak, "date": day.isoformat()}, points=points,
            description=f"{streak}-day streak",
        ))
    db.session.commit()
    # short write transactions on SQLite (issue 10: a web write never waits long behind the job)
    results = WriteSlicer(CHUNK).run(items, lambda part: award_many(part, now=at))
    for item, result in zip(items, results):
        if isinstance(result, EventKeyConflict):
            counts["bonus_conflicts"] = counts.get("bonus_conflicts", 0) + 1
        elif isinstance(result, ThriveError):
            log.warning("streak bonus for learner %s on %s refused: %s", item.learner_id, day, result)
            counts["bonus_errors"] = counts.get("bonus_errors", 0) + 1
        elif isinstance(result, Exception):
            raise result
        elif not result.duplicate:
            counts["bonuses"] += 1
            counts["bonus_points"] += result.points_awarded


def _states_with_prefs(session, learner_ids: list[int], *, lock: bool) -> list:
    """``(LearnerState, notification_prefs)`` of the learners in id order; ``lock`` takes the states ``FOR UPDATE``."""
    query = (
        select(LearnerState, Learner.notification_prefs)
        .join(Learner, Learner.id == LearnerState.learner_id)
        .where(LearnerState.learner_id.in_(learner_ids))
        .order_by(LearnerState.learner_id)
    )
    if lock:
        query = query.with_for_update(of=LearnerState)
    return session.execute(query).all()


def _settle_missed(today: date, zones_: list[str], counts: dict[str, Any]) -> None:
    yesterday = today - timedelta(days=1)
    ids = list(db.session.scalars(
        select(LearnerState.learner_id)
        .join(Learner, Learner.id == LearnerState.learner_id)
        .where(Learner.timezone.in_(zones_), LearnerState.current_streak > 0,
               LearnerState.streak_through < yesterday)
        .order_by(LearnerState.learner_id)
    ))
    db.session.commit()
    for chunk in chunked(ids, CHUNK):
        with write_transaction() as session:
            rows = _states_with_prefs(session, chunk, lock=True)
            for state, prefs in rows:
                before = StreakState(state.current_streak, state.longest_streak, state.streak_through,
                                     state.grace_days)
                after, used = settle(before, today)
                if after == before:
                    continue
                state.current_streak, state.longest_streak = after.current, after.longest
                state.streak_through, state.grace_days = after.through, after.grace
                if used:
                    counts["grace_days_used"] += used
                    days = "a grace day" if used == 1 else f"{used} grace days"
                    left = (f"{after.grace} left" if after.grace
                            else "none left — they come back with every 7-day streak")
                    notifications.notify(
                        session, state.learner_id, "grace_day_used",
                        f"{days[0].upper()}{days[1:]} kept your {after.current}-day streak alive", prefs=prefs,
                        body=f"You missed {yesterday.strftime('%A')}, so we used {days} ({left}).", link="/",
                        data={"date": yesterday.isoformat(), "used": used, "grace_days": after.grace,
                              "streak": after.current},
                        dedupe_key=f"grace_day_used:{state.learner_id}:{yesterday.isoformat()}",
                    )
                elif after.current == 0:
                    counts["streaks_reset"] += 1


def _remind_at_risk(today: date, zones_: list[str], counts: dict[str, Any]) -> None:
    already = exists().where(Notification.dedupe_key == _key_expr("streak_at_risk:", f":{today.isoformat()}"))
    ids = list(db.session.scalars(
        select(LearnerState.learner_id)
        .join(Learner, Learner.id == LearnerState.learner_id)
        .where(Learner.timezone.in_(zones_), Learner.is_active_account.is_(True),
               LearnerState.current_streak >= AT_RISK_MIN_STREAK, LearnerState.last_active_date < today, ~already)
        .order_by(LearnerState.learner_id)
    ))
    db.session.commit()
    for chunk in chunked(ids, CHUNK):
        with write_transaction() as session:
            rows = _states_with_prefs(session, chunk, lock=False)
            for state, prefs in rows:
                if state.last_active_date is not None and state.last_active_date >= today:
                    continue
                streak = effective_streak(state, today).current
                if streak < AT_RISK_MIN_STREAK:
                    continue
                note = notifications.notify(
                    session, state.learner_id, "streak_at_risk", f"Your {streak}-day streak is waiting for you 🔥",
                    prefs=prefs, body="One activity today keeps it going.", link="/",
                    data={"date": today.isoformat(), "streak": streak},
                    dedupe_key=f"streak_at_risk:{state.learner_id}:{today.isoformat()}",
                )
                if note is not None:
                    counts["at_risk_reminders"] += 1


def run_streaks(at: datetime | None = None) -> dict[str, Any]:
    """Run the streak job as of instant ``at`` (UTC; default now) — §5.3, §6.3.

    Idempotent: a second run for the same ``at`` (or any later instant of the
    same local days) awards, resets and notifies nothing more. Returns counts
    ``{"at", "timezones", "bonuses", "bonus_points", "grace_days_used",
    "streaks_reset", "at_risk_reminders"}`` (plus ``bonus_conflicts``/``bonus_errors``
    when some bonus was refused).
    """
    at = as_utc(at) if at else utcnow()
    counts: dict[str, Any] = {"at": at.isoformat(), "timezones": 0, "bonuses": 0, "bonus_points": 0,
                              "grace_days_used": 0, "streaks_reset": 0, "at_risk_reminders": 0}
    zones_ = _zones()
    counts["timezones"] = len(zones_)
    by_today: dict[date, list[str]] = {}
    evening: dict[date, list[str]] = {}
    for name in zones_:
        local = at.astimezone(zone(name))
        by_today.setdefault(local.date(), []).append(name)
        if local.hour >= AT_RISK_HOUR:
            evening.setdefault(local.date(), []).append(name)
    for today, group in sorted(by_today.items()):
        for back in range(BONUS_LOOKBACK_DAYS, 0, -1):
            _award_bonuses(today - timedelta(days=back), group, at, counts)
        _settle_missed(today, group, counts)
    for today, group in sorted(evening.items()):
        _remind_at_risk(today, group, counts)
    return counts


def iter_hours(start: datetime, end: datetime) -> Iterable[datetime]:
    """UTC instants on the hour from ``start`` (rounded up) up to ``end`` inclusive (tests, backfills)."""
    t = as_utc(start).replace(minute=0, second=0, microsecond=0)
    if t < as_utc(start):
        t += timedelta(hours=1)
    while t <= as_utc(end):
        yield t
        t += timedelta(hours=1)
