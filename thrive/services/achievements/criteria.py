"""Machine criteria of achievements: validation and evaluation over a learner's facts (§10).

A criterion is a small JSON object ``{"kind": …, …}``:

============== ====================================================== ==========================
kind           fields                                                 measured as
============== ====================================================== ==========================
counter        ``counter`` (a §5.4 lifetime counter), ``target``      the counter
activity_count ``activity_type``, ``target``                          non-capped awards of it
streak         ``target`` (days)                                      the longest streak
tier           ``tier`` (a tier key)                                  the tier reached
level          ``target``                                             the level
points         ``target`` (points)                                    total points
quests         ``target``                                             side quests completed
circle_goals   ``target``                                             circle goals contributed to
============== ====================================================== ==========================

"First …" badges are ``target: 1``. Pure functions: no database access.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from thrive.models.achievements import COUNTERS, CRITERIA_KINDS
from thrive.services.errors import ValidationError
from thrive.services.points.registry import Registry

MAX_TARGET = 100_000
#: Activity type counted by ``circle_goals`` criteria.
CIRCLE_GOAL_ACTIVITY = "circle_goal_completed"


@dataclass
class Facts:
    """What criteria are measured against, for one learner at one moment.

    ``counters`` maps §5.4 counter names to counts; ``activity_counts`` maps
    activity types to non-capped award counts (only the types asked for);
    ``tier_index`` is the reached tier's position on the ladder (0 = lowest).
    """

    counters: dict[str, int] = field(default_factory=dict)
    activity_counts: dict[str, int] = field(default_factory=dict)
    longest_streak: int = 0
    tier_index: int = 0
    level: int = 1
    total_points: int = 0


def activity_type_of(criteria: dict) -> str | None:
    """The activity type whose award count the criterion reads (``activity_count``, ``circle_goals``), or None."""
    kind = criteria.get("kind")
    if kind == "activity_count":
        return criteria.get("activity_type")
    if kind == "circle_goals":
        return CIRCLE_GOAL_ACTIVITY
    return None


def counter_of(criteria: dict) -> str | None:
    """The lifetime counter the criterion reads (``counter``, ``quests``), or None."""
    kind = criteria.get("kind")
    if kind == "counter":
        return criteria.get("counter")
    if kind == "quests":
        return "side_quests_completed"
    return None


def validate_criteria(criteria: dict, registry: Registry) -> dict:
    """Return a clean copy of ``criteria``; raise :class:`ValidationError` (``invalid_criteria``) when malformed."""
    if not isinstance(criteria, dict) or criteria.get("kind") not in CRITERIA_KINDS:
        raise ValidationError(f"criteria kind must be one of {', '.join(CRITERIA_KINDS)}", code="invalid_criteria")
    kind = criteria["kind"]
    if kind == "tier":
        tier = criteria.get("tier")
        if registry.tier_index(tier) < 0:
            raise ValidationError(f"unknown tier {tier!r}", code="invalid_criteria")
        return {"kind": kind, "tier": tier}
    target = criteria.get("target")
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET:
        raise ValidationError(f"target must be a whole number between 1 and {MAX_TARGET:,}", code="invalid_criteria")
    clean = {"kind": kind, "target": target}
    if kind == "counter":
        if criteria.get("counter") not in COUNTERS:
            raise ValidationError(f"counter must be one of {', '.join(COUNTERS)}", code="invalid_criteria")
        clean["counter"] = criteria["counter"]
    elif kind == "activity_count":
        if criteria.get("activity_type") not in registry.rules:
            raise ValidationError(f"unknown activity type {criteria.get('activity_type')!r}", code="invalid_criteria")
        clean["activity_type"] = criteria["activity_type"]
    return clean


def target_of(criteria: dict, registry: Registry) -> int:
    """The number to reach (a tier's threshold in points for ``tier``)."""
    if criteria["kind"] == "tier":
        return registry.tier(criteria["tier"]).threshold
    return int(criteria["target"])


def value_of(criteria: dict, facts: Facts, registry: Registry) -> int:
    """The learner's current measurement for the criterion (same unit as :func:`target_of`)."""
    kind = criteria["kind"]
    counter = counter_of(criteria)
    if counter:
        return int(facts.counters.get(counter, 0))
    activity = activity_type_of(criteria)
    if activity:
        return int(facts.activity_counts.get(activity, 0))
    if kind == "streak":
        return facts.longest_streak
    if kind == "level":
        return facts.level
    if kind == "points":
        return facts.total_points
    if kind == "tier":
        if is_met(criteria, facts, registry):
            return target_of(criteria, registry)
        return min(facts.total_points, target_of(criteria, registry))
    raise ValueError(f"unknown criteria kind {kind!r}")


def is_met(criteria: dict, facts: Facts, registry: Registry) -> bool:
    """True when ``facts`` satisfy the criterion."""
    if criteria["kind"] == "tier":
        return facts.tier_index >= registry.tier_index(criteria["tier"]) >= 0
    return value_of(criteria, facts, registry) >= int(criteria["target"])
