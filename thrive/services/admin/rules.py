"""Point rules for staff (§4.2, §4.4, §11): validate, save as a new version, dry-run an edit.

- :func:`validate_rule` turns a proposed rule (plain values) into a clean dict
  or raises :class:`RuleErrors` with a machine code per field.
- :func:`save_rule` writes the rule, a whole-snapshot :class:`PointRuleVersion`
  (version 1 is the seeded rule, written on its first edit), and one audit
  entry, in one transaction; then drops the registry cache so the next award
  prices with the new version (each ledger entry records ``rule_version``).
- :func:`dry_run` replays the last ``days`` days of ledger entries of one
  activity type under a proposed rule — amounts and caps — and reports it
  beside what was actually awarded.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import CATEGORIES, Learner, LedgerEntry, PointRule, PointRuleVersion
from thrive.services.admin.audit import record
from thrive.services.errors import FieldErrors, NotFound
from thrive.services.points import registry
from thrive.services.points.award import compute_points
from thrive.services.points.registry import RuleSnapshot
from thrive.timeutil import as_utc, utcnow

#: Every editable field of a rule (§4.2), in form order; ``activity_type`` is the key.
RULE_FIELDS = (
    "activity_type", "label", "category", "base_points", "difficulty_points", "perfect_bonus_percent",
    "max_per_day", "max_per_week", "max_ever", "enabled", "allow_custom_points", "min_points", "max_points",
    "allow_negative", "requires_description", "notes",
)
ACTIVITY_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_POINTS = 1_000_000
DRY_RUN_DAYS = 30


class RuleErrors(FieldErrors):
    """A proposed rule is invalid. ``errors`` maps field → code.

    Codes: ``required``, ``invalid_key``, ``taken``, ``too_long``, ``unknown_category``,
    ``not_integer``, ``negative``, ``out_of_range``, ``min_over_max``, ``invalid_difficulty``.
    """

    code = "invalid_rule"
    subject = "the rule"


def rule_snapshot(rule: PointRule) -> dict[str, Any]:
    """Every field of ``rule`` as plain values (the version snapshot, the audit before/after)."""
    out = {name: getattr(rule, name) for name in RULE_FIELDS}
    out["difficulty_points"] = dict(rule.difficulty_points) if rule.difficulty_points else None
    return out


def _int(errors: dict, data: dict, name: str, *, optional: bool, low: int | None = None,
         high: int = MAX_POINTS) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        if not optional:
            errors[name] = "required"
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "not_integer"
        return None
    if low is not None and value < low:
        errors[name] = "negative" if low == 0 else "out_of_range"
    elif abs(value) > high:
        errors[name] = "out_of_range"
    return value


def validate_rule(data: dict[str, Any], *, is_new: bool) -> dict[str, Any]:
    """Check a proposed rule; return the clean field dict (all of :data:`RULE_FIELDS`).

    ``data`` holds plain values: ints (or None) for points and caps, bools for
    switches, ``difficulty_points`` a ``{name: points}`` dict or None. For a new
    rule ``activity_type`` must be a fresh lower-case key. Raises
    :class:`RuleErrors` listing every invalid field.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    key = (data.get("activity_type") or "").strip()
    if not key:
        errors["activity_type"] = "required"
    elif not ACTIVITY_TYPE_RE.match(key):
        errors["activity_type"] = "invalid_key"
    elif is_new and db.session.get(PointRule, key) is not None:
        errors["activity_type"] = "taken"
    out["activity_type"] = key
    label = (data.get("label") or "").strip()
    if not label:
        errors["label"] = "required"
    elif len(label) > 120:
        errors["label"] = "too_long"
    out["label"] = label
    category = data.get("category") or None
    if category is not None and category not in CATEGORIES:
        errors["category"] = "unknown_category"
    out["category"] = category
    for name in ("enabled", "allow_custom_points", "allow_negative", "requires_description"):
        out[name] = bool(data.get(name))
    negative_ok = out["allow_negative"]
    out["base_points"] = _int(errors, data, "base_points", optional=False, low=None if negative_ok else 0)
    out["perfect_bonus_percent"] = _int(errors, data, "perfect_bonus_percent", optional=True, low=0, high=1000) or 0
    for name in ("max_per_day", "max_per_week", "max_ever"):
        out[name] = _int(errors, data, name, optional=True, low=1)
    out["min_points"] = _int(errors, data, "min_points", optional=True, low=None if negative_ok else 0)
    out["max_points"] = _int(errors, data, "max_points", optional=True, low=None if negative_ok else 0)
    if (out["min_points"] is not None and out["max_points"] is not None and "min_points" not in errors
            and "max_points" not in errors and out["min_points"] > out["max_points"]):
        errors["max_points"] = "min_over_max"
    difficulty = data.get("difficulty_points") or None
    if difficulty is not None:
        ok = isinstance(difficulty, dict) and all(
            isinstance(k, str) and re.match(r"^[a-z][a-z0-9_]{0,31}$", k) and isinstance(v, int)
            and not isinstance(v, bool) and 0 <= v <= MAX_POINTS for k, v in difficulty.items())
        if not ok:
            errors["difficulty_points"] = "invalid_difficulty"
        else:
            difficulty = dict(sorted(difficulty.items()))
    out["difficulty_points"] = difficulty
    notes = (data.get("notes") or "").strip() or None
    if notes and len(notes) > 2000:
        errors["notes"] = "too_long"
    out["notes"] = notes
    if errors:
        raise RuleErrors(errors)
    return out


@dataclass(frozen=True)
class SaveResult:
    """Outcome of :func:`save_rule`: ``version`` now current; ``changed`` False when nothing differed."""

    activity_type: str
    version: int
    changed: bool
    created: bool


def _write_version(session, rule: PointRule, author_id: int | None, at: datetime) -> None:
    session.add(PointRuleVersion(activity_type=rule.activity_type, version=rule.version,
                                 snapshot=rule_snapshot(rule), author_id=author_id, created_at=at))


def apply_rule(session, clean: dict[str, Any], *, author_id: int | None, now: datetime
               ) -> tuple[PointRule, dict | None, bool]:
    """Write a validated rule in ``session`` (no commit, no audit): a new rule at version 1, or the
    next version of an existing one. Returns (rule, snapshot before or None, changed)."""
    rule = session.scalar(select(PointRule).where(PointRule.activity_type == clean["activity_type"])
                          .with_for_update())
    if rule is None:
        rule = PointRule(version=1, updated_at=now, **clean)
        session.add(rule)
        session.flush()
        _write_version(session, rule, author_id, now)
        return rule, None, True
    before = rule_snapshot(rule)
    if before == clean:
        return rule, before, False
    has_history = session.scalar(select(func.count(PointRuleVersion.id))
                                 .where(PointRuleVersion.activity_type == rule.activity_type))
    if not has_history:
        # The seeded (or pre-versioning) rule becomes version 1, so every version is on record.
        _write_version(session, rule, None, as_utc(rule.updated_at))
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_at = now
    session.flush()
    _write_version(session, rule, author_id, now)
    return rule, {**before, "version": rule.version - 1}, True


def save_rule(actor: Learner, data: dict[str, Any], *, activity_type: str | None = None,
              now: datetime | None = None) -> SaveResult:
    """Create (``activity_type`` None) or update a rule; every saved change is a new version (§4.2).

    Validates ``data`` (:func:`validate_rule`); on update the key cannot change
    (``data["activity_type"]`` is ignored). Writes the rule, its version row and
    one audit entry (``rule.create`` / ``rule.update``) in one transaction, then
    invalidates the registry cache, so awards from then on are priced by — and
    record — the new version (§4.4). Saving an unchanged rule writes nothing.
    Raises :class:`RuleErrors`, ``NotFound`` (unknown rule).
    """
    now = as_utc(now) if now else utcnow()
    is_new = activity_type is None
    if not is_new:
        if db.session.get(PointRule, activity_type) is None:
            raise NotFound(f"no rule {activity_type!r}")
        data = {**data, "activity_type": activity_type}
    clean = validate_rule(data, is_new=is_new)
    with write_transaction() as session:
        rule, before, changed = apply_rule(session, clean, author_id=actor.id, now=now)
        result = SaveResult(rule.activity_type, rule.version, changed, before is None)
        if changed:
            record(actor, "rule.create" if before is None else "rule.update", "point_rule", rule.activity_type,
                   before, {**clean, "version": rule.version}, session=session)
    registry.invalidate()
    return result


def set_enabled(actor: Learner, activity_type: str, enabled: bool, *, now: datetime | None = None) -> SaveResult:
    """Enable or disable a rule (a new version like any other change, §4.2). Raises ``NotFound``."""
    rule = db.session.get(PointRule, activity_type)
    if rule is None:
        raise NotFound(f"no rule {activity_type!r}")
    data = {**rule_snapshot(rule), "enabled": bool(enabled)}
    db.session.commit()
    return save_rule(actor, data, activity_type=activity_type, now=now)


def list_rules() -> list[PointRule]:
    """All rules, by category then activity type."""
    return list(db.session.scalars(select(PointRule).order_by(PointRule.category, PointRule.activity_type)))


def get_rule(activity_type: str) -> PointRule:
    """The rule with ``activity_type``; raises ``NotFound``."""
    rule = db.session.get(PointRule, activity_type)
    if rule is None:
        raise NotFound(f"no rule {activity_type!r}")
    return rule


def versions(activity_type: str) -> list[PointRuleVersion]:
    """Saved versions of a rule, newest first (empty while it is still the seeded version 1)."""
    return list(db.session.scalars(select(PointRuleVersion).where(PointRuleVersion.activity_type == activity_type)
                                   .order_by(PointRuleVersion.version.desc())))


# --- dry run ---------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """Events (ledger entries), points (sum) and capped (entries over a cap, 0 points)."""

    events: int
    points: int
    capped: int


@dataclass(frozen=True)
class DryRun:
    """What a proposed rule would have awarded over ``[since, until)`` (UTC) next to what was awarded.

    ``learners``: distinct learners with an entry in the window; ``rejected``:
    entries the proposed rule would refuse (rule disabled).
    """

    activity_type: str
    since: datetime
    until: datetime
    actual: Figures
    proposed: Figures
    learners: int
    rejected: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _as_snapshot(clean: dict[str, Any]) -> RuleSnapshot:
    fields = {k: v for k, v in clean.items() if k != "notes"}
    return RuleSnapshot(**fields)


def _proposed_amount(proposed: RuleSnapshot, current: RuleSnapshot | None, meta: dict | None, points: int,
                     capped: bool) -> int:
    """The amount the proposed rule gives one past award, before caps.

    A custom amount cannot be read back from a capped entry, so: when the entry
    was uncapped, the current rule allows custom amounts and its points differ
    from what the current rule computes, the award carried a custom amount — it
    is kept (clamped into the proposed bounds) if the proposed rule still allows
    custom amounts. Otherwise the proposed rule computes the amount.
    """
    custom = (current is not None and current.allow_custom_points and not capped and proposed.allow_custom_points
              and points != compute_points(current, meta, None))
    if custom:
        low = proposed.min_points if proposed.min_points is not None else (
            -math.inf if proposed.allow_negative else 0)
        high = proposed.max_points if proposed.max_points is not None else math.inf
        return int(min(max(points, low), high))
    return compute_points(proposed, meta, None)


def dry_run(activity_type: str, proposed: dict[str, Any], *, days: int = DRY_RUN_DAYS,
            now: datetime | None = None) -> DryRun:
    """Replay the last ``days`` days of ``activity_type`` awards under ``proposed`` (§4.2, §11).

    ``proposed`` is validated like :func:`save_rule`'s data (raises
    :class:`RuleErrors`). Entries are read from the ledger (oldest first, per
    learner); each is re-priced by the proposed rule and the caps are replayed:
    the day cap per learner per *local* day (the entry's ``local_date``), the
    week cap per platform ISO week, the lifetime cap — each counting the
    uncapped entries before it (entries before the window count as they were
    awarded). Nothing is written.
    """
    now = as_utc(now) if now else utcnow()
    since = now - timedelta(days=days)
    clean = validate_rule({**proposed, "activity_type": activity_type}, is_new=False)
    rule = _as_snapshot(clean)
    current = registry.load_registry().rules.get(activity_type)
    le = LedgerEntry.__table__.c
    window = (le.activity_type == activity_type, le.occurred_at >= since, le.occurred_at < now)
    actual_row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(le.points), 0),
               func.coalesce(func.sum(case((le.capped.is_(True), 1), else_=0)), 0),
               func.count(func.distinct(le.learner_id))).where(*window)
    ).one()
    actual = Figures(int(actual_row[0]), int(actual_row[1]), int(actual_row[2]))
    prior_week: dict[tuple[int, str], int] = {}
    prior_ever: dict[int, int] = {}
    if (rule.max_per_week is not None or rule.max_ever is not None):
        weeks_in = select(le.week).where(*window).distinct()
        if rule.max_per_week is not None:
            for lid, week, n in db.session.execute(
                select(le.learner_id, le.week, func.count()).where(
                    le.activity_type == activity_type, le.occurred_at < since, le.capped.is_(False),
                    le.week.in_(weeks_in)).group_by(le.learner_id, le.week)):
                prior_week[(lid, week)] = int(n)
        if rule.max_ever is not None:
            for lid, n in db.session.execute(
                select(le.learner_id, func.count()).where(
                    le.activity_type == activity_type, le.occurred_at < since, le.capped.is_(False))
                .group_by(le.learner_id)):
                prior_ever[lid] = int(n)
    rows = db.session.execute(
        select(le.learner_id, le.local_date, le.week, le.points, le.capped, le["metadata"])
        .where(*window).order_by(le.learner_id, le.id)
    )
    events = points_sum = capped_n = rejected = 0
    day_counts: dict[tuple[int, Any], int] = {}
    week_counts: dict[tuple[int, str], int] = {}
    ever_counts: dict[int, int] = {}
    for lid, day, week, points, capped, meta in rows:
        if not rule.enabled:
            rejected += 1
            continue
        events += 1
        amount = _proposed_amount(rule, current, meta, points, capped)
        over = amount > 0 and (
            (rule.max_per_day is not None and day_counts.get((lid, day), 0) >= rule.max_per_day)
            or (rule.max_per_week is not None
                and prior_week.get((lid, week), 0) + week_counts.get((lid, week), 0) >= rule.max_per_week)
            or (rule.max_ever is not None and prior_ever.get(lid, 0) + ever_counts.get(lid, 0) >= rule.max_ever)
        )
        if over:
            capped_n += 1
            continue
        points_sum += amount
        day_counts[(lid, day)] = day_counts.get((lid, day), 0) + 1
        week_counts[(lid, week)] = week_counts.get((lid, week), 0) + 1
        ever_counts[lid] = ever_counts.get(lid, 0) + 1
    db.session.commit()
    return DryRun(activity_type, since, now, actual, Figures(events, points_sum, capped_n), int(actual_row[3]),
                  rejected)
