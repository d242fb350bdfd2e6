"""The tier ladder and the level table for staff (§5.1, §5.2, §1.2, §11).

- :func:`validate_ladder` checks a proposed ladder and level table (first
  threshold 0, strictly increasing, well-formed tiers; a tier someone holds
  cannot be removed) and raises :class:`LadderErrors` with machine codes.
- :func:`curve_thresholds` generates a level table from a curve (linear,
  increasing, snowballing) for a preview.
- :func:`what_if` counts learners per tier and per level today and under a
  proposed table, from one grouped SQL query over current state
  (:mod:`thrive.services.admin.ladder_counts`) — never demoting anyone (a
  stored tier/level higher than the table gives is kept).
- :func:`save_ladder` writes the table, promotes the learners it lifts
  (celebrated like an award's tier-up, or silently) and writes one audit entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, delete, literal, select, update

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerState, Level, ProgressionEvent, Tier
from thrive.services.admin.audit import record
from thrive.services.admin.ladder_counts import grouped_counts, stored_tier_index
from thrive.services.errors import FieldErrors
from thrive.services.notifications import sending as notifications
from thrive.services.points import registry
from thrive.services.points.defaults import LEVEL_STEP_BEYOND_TABLE
from thrive.timeutil import as_utc, utcnow

TIER_FIELDS = ("key", "name", "threshold", "emoji", "colour", "tagline")
TIER_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
CURVES = ("linear", "increasing", "snowballing")
MAX_LEVELS = 200
MAX_THRESHOLD = 1_000_000_000


class LadderErrors(FieldErrors):
    """A proposed ladder or level table is invalid. ``errors`` maps a field path → code.

    Paths: ``tiers``, ``tiers.<i>.<field>``, ``levels``, ``levels.<i>``, ``curve.<field>``.
    Codes: ``required``, ``empty``, ``too_many``, ``first_not_zero``, ``not_increasing``,
    ``invalid_key``, ``duplicate_key``, ``too_long``, ``invalid_colour``, ``not_integer``,
    ``negative``, ``out_of_range``, ``unknown_curve``, ``tier_in_use``.
    """

    code = "invalid_ladder"
    subject = "the ladder"


def current_ladder() -> dict[str, Any]:
    """Today's table: ``{"tiers": [tier dicts ascending], "levels": [thresholds]}``."""
    reg = registry.load_registry()
    return {
        "tiers": [{name: getattr(t, name) for name in TIER_FIELDS} for t in reg.tiers],
        "levels": list(reg.level_thresholds),
    }


def _check_thresholds(errors: dict, path: str, values: list) -> None:
    if not values:
        errors[path] = "empty"
        return
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int):
            errors[f"{path}.{i}"] = "not_integer"
            return
        if not 0 <= v <= MAX_THRESHOLD:
            errors[f"{path}.{i}"] = "out_of_range"
            return
    if values[0] != 0:
        errors[path] = "first_not_zero"
    elif any(b <= a for a, b in zip(values, values[1:])):
        errors[path] = "not_increasing"


def validate_ladder(tiers: list[dict[str, Any]], levels: list[int], *, check_in_use: bool = True
                    ) -> dict[str, Any]:
    """Check a proposed ladder; return ``{"tiers": [...], "levels": [...]}`` cleaned (tiers by threshold).

    ``tiers``: dicts with ``key`` (lower-case, unique), ``name``, ``threshold``
    (points, int), ``emoji``, ``colour`` (``#rrggbb``), ``tagline``; in the
    order given (thresholds must rise: first 0, strictly increasing).
    ``levels``: thresholds of levels 1… (first 0, strictly increasing).
    With ``check_in_use`` a tier key held by any learner must stay (tiers never
    drop, §1.2). Raises :class:`LadderErrors`.
    """
    errors: dict[str, str] = {}
    clean_tiers = []
    if not tiers:
        errors["tiers"] = "empty"
    seen: set[str] = set()
    for i, t in enumerate(tiers or []):
        key = (t.get("key") or "").strip()
        name = (t.get("name") or "").strip()
        emoji = (t.get("emoji") or "").strip()
        colour = (t.get("colour") or "").strip()
        tagline = (t.get("tagline") or "").strip()
        if not key:
            errors[f"tiers.{i}.key"] = "required"
        elif not TIER_KEY_RE.match(key):
            errors[f"tiers.{i}.key"] = "invalid_key"
        elif key in seen:
            errors[f"tiers.{i}.key"] = "duplicate_key"
        seen.add(key)
        if not name:
            errors[f"tiers.{i}.name"] = "required"
        elif len(name) > 64:
            errors[f"tiers.{i}.name"] = "too_long"
        if len(emoji) > 16:
            errors[f"tiers.{i}.emoji"] = "too_long"
        if not COLOUR_RE.match(colour):
            errors[f"tiers.{i}.colour"] = "invalid_colour"
        if len(tagline) > 200:
            errors[f"tiers.{i}.tagline"] = "too_long"
        clean_tiers.append({"key": key, "name": name, "threshold": t.get("threshold"), "emoji": emoji,
                            "colour": colour.lower(), "tagline": tagline})
    if clean_tiers:
        _check_thresholds(errors, "tiers", [t["threshold"] for t in clean_tiers])
    levels = list(levels or [])
    if len(levels) > MAX_LEVELS:
        errors["levels"] = "too_many"
    else:
        _check_thresholds(errors, "levels", levels)
    if check_in_use and not any(k.startswith("tiers.") and k.endswith(".key") for k in errors) and clean_tiers:
        held = set(db.session.scalars(select(LearnerState.tier_key).distinct()))
        missing = held - {t["key"] for t in clean_tiers}
        if missing:
            errors["tiers"] = "tier_in_use"
        db.session.commit()
    if errors:
        raise LadderErrors(errors)
    return {"tiers": clean_tiers, "levels": levels}


def curve_thresholds(curve: str, count: int, base: int, coefficient: float) -> list[int]:
    """Level thresholds 1…``count`` from a curve (level 1 is always 0 points).

    The step from level n to n+1 (n ≥ 1) is, in points:
    ``linear``: ``base``; ``increasing``: ``base + coefficient × (n − 1)``;
    ``snowballing``: ``base × (1 + coefficient) ** (n − 1)`` (rounded).
    ``base`` ≥ 1, ``coefficient`` ≥ 0 (a fraction for snowballing, e.g. 0.2).
    Raises :class:`LadderErrors` (``curve.*``).
    """
    errors: dict[str, str] = {}
    if curve not in CURVES:
        errors["curve.kind"] = "unknown_curve"
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_LEVELS:
        errors["curve.count"] = "out_of_range"
    if isinstance(base, bool) or not isinstance(base, int) or not 1 <= base <= 1_000_000:
        errors["curve.base"] = "out_of_range"
    if not isinstance(coefficient, (int, float)) or isinstance(coefficient, bool) or not 0 <= coefficient <= 1000:
        errors["curve.coefficient"] = "out_of_range"
    if errors:
        raise LadderErrors(errors)
    out, total = [0], 0
    for n in range(1, count):
        if curve == "linear":
            step = base
        elif curve == "increasing":
            step = base + coefficient * (n - 1)
        else:
            step = base * (1 + coefficient) ** (n - 1)
        total += max(int(round(step)), 1)
        if total > MAX_THRESHOLD:
            raise LadderErrors({"curve.count": "out_of_range"})
        out.append(total)
    return out


# --- what-if -------------------------------------------------------------------

@dataclass
class WhatIf:
    """Learners per tier and per level, today and under a proposed table (never lower than today).

    ``tiers``: ``[{"key", "name", "emoji", "today", "proposed"}]`` in proposed
    ladder order (plus tiers only held today, if any); ``levels``:
    ``[{"level", "today", "proposed"}]`` ascending; ``promoted``: learners whose
    tier or level the proposed table raises; ``tier_promoted``/``level_promoted``
    the same per kind; ``learners``: learners counted.
    """

    tiers: list[dict[str, Any]] = field(default_factory=list)
    levels: list[dict[str, Any]] = field(default_factory=list)
    promoted: int = 0
    tier_promoted: int = 0
    level_promoted: int = 0
    learners: int = 0


def _tier_from_points(points_col, tiers: list[dict]):
    """SQL: index (0…) in ``tiers`` of the highest tier ``points_col`` reaches."""
    whens = [(points_col >= t["threshold"], i) for i, t in reversed(list(enumerate(tiers))) if i > 0]
    return case(*whens, else_=0) if whens else literal(0, Integer)


def _level_from_points(points_col, levels: list[int]):
    """SQL: the level ``points_col`` reaches (§5.2: the table, then +LEVEL_STEP_BEYOND_TABLE per level)."""
    n, last = len(levels), levels[-1]
    whens = [(points_col >= last, n + (points_col - last) // LEVEL_STEP_BEYOND_TABLE)]
    whens += [(points_col >= levels[i], i + 1) for i in range(n - 2, 0, -1)]
    return case(*whens, else_=1)


def _greater(a, b):
    return case((a > b, a), else_=b)


def what_if(tiers: list[dict[str, Any]], levels: list[int]) -> WhatIf:
    """Counts per tier and level today vs under (``tiers``, ``levels``) — validated first (§5, §11).

    One grouped SQL query over the ``learner_states`` of learners
    (:func:`~thrive.services.admin.ladder_counts.grouped_counts`; staff who are
    not learners are left out, §11) (``peak_points``: the highest
    total ever reached, §5.1). A learner's proposed tier is the higher of the
    tier their peak reaches under the proposed ladder and their stored tier
    (tiers never drop, §1.2); likewise levels. Raises :class:`LadderErrors`.
    """
    clean = validate_ladder(tiers, levels, check_in_use=False)
    tiers, levels = clean["tiers"], clean["levels"]
    rows = grouped_counts(tiers, levels)
    db.session.commit()
    index = {t["key"]: i for i, t in enumerate(tiers)}
    current = {t.key: t for t in registry.load_registry().tiers}
    result = WhatIf()
    tier_today: dict[str, int] = {}
    tier_new: dict[str, int] = {}
    level_today: dict[int, int] = {}
    level_new: dict[int, int] = {}
    promoted_keys: set = set()
    for key, level, new_idx, new_level, count in rows:
        new_key = tiers[new_idx]["key"] if new_idx >= 0 else key
        tier_today[key] = tier_today.get(key, 0) + count
        tier_new[new_key] = tier_new.get(new_key, 0) + count
        level_today[level] = level_today.get(level, 0) + count
        level_new[new_level] = level_new.get(new_level, 0) + count
        result.learners += count
        tier_up = new_idx > index.get(key, -1) and new_idx >= 0
        level_up = new_level > level
        if tier_up:
            result.tier_promoted += count
        if level_up:
            result.level_promoted += count
        if tier_up or level_up:
            result.promoted += count
            promoted_keys.add((key, level, new_idx, new_level))
    for t in tiers:
        result.tiers.append({"key": t["key"], "name": t["name"], "emoji": t["emoji"],
                             "today": tier_today.get(t["key"], 0), "proposed": tier_new.get(t["key"], 0)})
    for key, count in sorted(tier_today.items()):
        if key not in index:
            old = current.get(key)
            result.tiers.append({"key": key, "name": old.name if old else key, "emoji": old.emoji if old else "",
                                 "today": count, "proposed": tier_new.get(key, 0)})
    for level in sorted(set(level_today) | set(level_new)):
        result.levels.append({"level": level, "today": level_today.get(level, 0),
                              "proposed": level_new.get(level, 0)})
    return result


# --- save ------------------------------------------------------------------------

@dataclass(frozen=True)
class LadderSaved:
    """Outcome of :func:`save_ladder`: learners promoted (tier and/or level) and whether it was celebrated."""

    promoted: int
    tier_promoted: int
    level_promoted: int
    celebrated: bool


def _celebrate(session, learner_id: int, prefs: dict | None, reg_tiers: dict, old_key: str, new_key: str,
               tier_keys: list[str], old_level: int, new_level: int, at: datetime) -> None:
    """Progression events, notifications and celebrations, as ``award()`` records a tier/level-up (§4.1, §7)."""
    tiers_gained = []
    if new_key != old_key:
        lo = tier_keys.index(old_key) if old_key in tier_keys else 0
        tiers_gained = tier_keys[lo + 1: tier_keys.index(new_key) + 1]
    previous = old_key
    for key in tiers_gained:
        session.add(ProgressionEvent(learner_id=learner_id, kind="tier_up", from_value=previous, to_value=key,
                                     occurred_at=at))
        previous = key
    levels_gained = list(range(old_level + 1, new_level + 1))
    for level in levels_gained:
        session.add(ProgressionEvent(learner_id=learner_id, kind="level_up", from_value=str(level - 1),
                                     to_value=str(level), occurred_at=at))
    if tiers_gained:
        tier = reg_tiers[new_key]
        title = f"You reached {tier['name']}! {tier['emoji']}".strip()
        dedupe = f"tier_up:{learner_id}:{new_key}"
        notifications.notify(session, learner_id, "tier_up", title, prefs=prefs, body=tier["tagline"], link="/",
                             data={"tier": new_key}, dedupe_key=dedupe)
        notifications.celebrate(session, learner_id, "tier_up", title, body=tier["tagline"],
                                data={"tier": new_key, "tiers": tiers_gained, "levels": levels_gained},
                                dedupe_key=dedupe)
    if levels_gained:
        top = levels_gained[-1]
        title = f"Level {top}!" if len(levels_gained) == 1 else f"Level {top}! Up {len(levels_gained)} levels"
        notifications.notify(session, learner_id, "level_up", title, prefs=prefs, link="/",
                             data={"levels": levels_gained}, dedupe_key=f"level_up:{learner_id}:{top}")
        if not tiers_gained:
            notifications.celebrate(session, learner_id, "level_up", title, data={"levels": levels_gained},
                                    dedupe_key=f"level_up:{learner_id}:{top}")


def save_ladder(actor: Learner, tiers: list[dict[str, Any]], levels: list[int], *, celebrate: bool,
                now: datetime | None = None) -> LadderSaved:
    """Replace the tier ladder and level table; promote learners the new table lifts; never demote (§1.2).

    Validates (:func:`validate_ladder`, including that no held tier is removed).
    In one transaction: writes the tables, raises ``tier_key``/``level`` of
    every learner whose peak points reach higher under the new table (a
    stored tier/level above what the table gives is kept), and — when
    ``celebrate`` — records tier/level-up progression events, notifications
    and celebrations for them as an award would; otherwise the promotion is
    silent. One audit entry (``ladder.update``). Invalidates the registry cache.
    Raises :class:`LadderErrors`.
    """
    now = as_utc(now) if now else utcnow()
    before = current_ladder()
    clean = validate_ladder(tiers, levels)
    with write_transaction() as session:
        result = apply_ladder(session, clean["tiers"], clean["levels"], celebrate=celebrate, now=now)
        record(actor, "ladder.update", "ladder", None, before,
               {**clean, "promoted": result.promoted, "celebrated": celebrate}, session=session)
    registry.invalidate()
    return result


def apply_ladder(session, tiers: list[dict], levels: list[int], *, celebrate: bool, now: datetime) -> LadderSaved:
    """Write a validated ladder in ``session`` and promote whom it lifts (no commit, no audit)."""
    s = LearnerState.__table__.c
    session.execute(delete(Tier))
    session.execute(delete(Level))
    session.flush()
    for t in tiers:
        session.add(Tier(**t))
    for i, threshold in enumerate(levels, start=1):
        session.add(Level(level=i, threshold=threshold))
    session.flush()
    new_tier_idx = _greater(_tier_from_points(s.peak_points, tiers), stored_tier_index(s.tier_key, tiers))
    new_level = _greater(_level_from_points(s.peak_points, levels), s.level)
    lifted = (new_tier_idx > stored_tier_index(s.tier_key, tiers)) | (new_level > s.level)
    rows = session.execute(
        select(s.learner_id, s.tier_key, s.level, new_tier_idx, new_level, Learner.notification_prefs)
        .join(Learner.__table__, Learner.id == s.learner_id).where(lifted, Learner.is_learner.is_(True))
        .with_for_update(of=LearnerState.__table__)
    ).all()
    tier_keys = [t["key"] for t in tiers]
    by_key = {t["key"]: t for t in tiers}
    tier_n = level_n = 0
    for learner_id, old_key, old_level, idx, lvl, prefs in rows:
        new_key = tier_keys[idx] if idx >= 0 else old_key
        tier_n += new_key != old_key
        level_n += lvl > old_level
        session.execute(update(LearnerState).where(LearnerState.learner_id == learner_id)
                        .values(tier_key=new_key, level=max(lvl, old_level)))
        if celebrate:
            _celebrate(session, learner_id, prefs, by_key, old_key, new_key, tier_keys, old_level, lvl, now)
    return LadderSaved(len(rows), tier_n, level_n, celebrate)
