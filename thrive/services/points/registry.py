"""The rule registry, tier ladder and level table, with a short in-process cache (§4.2, §5).

These tables change rarely (admin edits) and are read on every award, so each
process keeps a snapshot for ``THRIVE_REGISTRY_CACHE_SECONDS`` seconds. Any
service that edits them calls :func:`invalidate` so the change applies at
once in that process, and within the cache lifetime everywhere else.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Level, PointRule, Tier
from thrive.services.points.defaults import (
    DEFAULT_GOAL_TEMPLATES,
    DEFAULT_LEVEL_THRESHOLDS,
    DEFAULT_RULES,
    DEFAULT_TIERS,
    LEVEL_STEP_BEYOND_TABLE,
    SYSTEM_ONLY_ACTIVITY_TYPES,
)


@dataclass(frozen=True)
class RuleSnapshot:
    """An immutable copy of a :class:`PointRule` row."""

    activity_type: str
    label: str
    category: str | None
    base_points: int
    difficulty_points: dict | None
    perfect_bonus_percent: int
    max_per_day: int | None
    max_per_week: int | None
    max_ever: int | None
    enabled: bool
    allow_custom_points: bool
    min_points: int | None
    max_points: int | None
    allow_negative: bool
    requires_description: bool
    #: The rule's current version (§4.2); award() stamps it on the ledger entry it prices.
    version: int = 1
    #: Where on the learning platform the activity is done (admin-set, shown by onboarding; None = not set).
    where_url: str | None = None
    #: callers of the API may award it (False for system-only types, see defaults.SYSTEM_ONLY_ACTIVITY_TYPES)
    api_allowed: bool = True


@dataclass(frozen=True)
class TierSnapshot:
    key: str
    name: str
    threshold: int
    emoji: str
    colour: str
    tagline: str


@dataclass(frozen=True)
class Registry:
    """Rules by activity type, tiers ascending by threshold, level thresholds ascending."""

    rules: dict[str, RuleSnapshot]
    tiers: tuple[TierSnapshot, ...]
    level_thresholds: tuple[int, ...]

    def tier(self, key: str) -> TierSnapshot:
        """The tier with ``key``; an unknown key (deleted from the ladder) maps to the lowest tier."""
        for t in self.tiers:
            if t.key == key:
                return t
        return self.tiers[0]

    def tier_index(self, key: str) -> int:
        """Position of ``key`` on the ladder (0 = lowest); unknown keys rank lowest."""
        for i, t in enumerate(self.tiers):
            if t.key == key:
                return i
        return -1

    def tier_for_points(self, points: int) -> TierSnapshot:
        """The highest tier whose threshold ``points`` reaches (§5.1)."""
        idx = bisect_right([t.threshold for t in self.tiers], points) - 1
        return self.tiers[max(idx, 0)]

    def next_tier(self, key: str) -> TierSnapshot | None:
        """The tier above ``key``, or None at the top."""
        i = self.tier_index(key)
        return self.tiers[i + 1] if 0 <= i + 1 < len(self.tiers) else None

    def level_for_points(self, points: int) -> int:
        """Level reached with ``points`` (§5.2): the table, then +10,000 points per level."""
        table = self.level_thresholds
        if points >= table[-1]:
            return len(table) + (points - table[-1]) // LEVEL_STEP_BEYOND_TABLE
        return max(bisect_right(table, points), 1)

    def level_threshold(self, level: int) -> int:
        """Points needed for ``level`` (level ≥ 1)."""
        table = self.level_thresholds
        if level <= len(table):
            return table[max(level, 1) - 1]
        return table[-1] + (level - len(table)) * LEVEL_STEP_BEYOND_TABLE


#: ttl (seconds) → cachetools TTLCache of database URI → Registry (one cache per configured lifetime).
_cache: dict[float, TTLCache] = {}


def invalidate() -> None:
    """Drop this process's cached registry (call after editing rules, tiers or levels)."""
    for cache in _cache.values():
        cache.clear()


def load_registry() -> Registry:
    """The current registry, from the cache when fresh (§4.2, §5)."""
    ttl = current_app.config.get("THRIVE_REGISTRY_CACHE_SECONDS", 5)
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cache = _cache.get(ttl) if ttl else None
    if ttl and cache is None:
        cache = _cache.setdefault(ttl, TTLCache(16, ttl))
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    rules = {
        r.activity_type: RuleSnapshot(
            r.activity_type, r.label, r.category, r.base_points, dict(r.difficulty_points or {}) or None,
            r.perfect_bonus_percent, r.max_per_day, r.max_per_week, r.max_ever, r.enabled,
            r.allow_custom_points, r.min_points, r.max_points, r.allow_negative, r.requires_description,
            r.version or 1,
            r.where_url,
            bool(r.api_allowed) and r.activity_type not in SYSTEM_ONLY_ACTIVITY_TYPES,
        )
        for r in db.session.scalars(select(PointRule))
    }
    tiers = tuple(
        TierSnapshot(t.key, t.name, t.threshold, t.emoji, t.colour, t.tagline)
        for t in db.session.scalars(select(Tier).order_by(Tier.threshold))
    )
    levels = tuple(db.session.scalars(select(Level.threshold).order_by(Level.level)))
    if not tiers:
        tiers = tuple(TierSnapshot(**t) for t in DEFAULT_TIERS)
    if not levels:
        levels = tuple(DEFAULT_LEVEL_THRESHOLDS)
    registry = Registry(rules, tiers, levels)
    if cache is not None:
        cache[key] = registry
    return registry


def seed_defaults() -> dict[str, int]:
    """Insert the default rules, tiers, levels and goal templates that are missing.

    Idempotent and never overwrites admin edits: existing rows (by key) are
    left alone (§12). Returns counts of rows inserted per table.
    """
    from thrive.models import GoalTemplate

    counts = {"rules": 0, "tiers": 0, "levels": 0, "goal_templates": 0}
    existing_rules = set(db.session.scalars(select(PointRule.activity_type)))
    for rule in DEFAULT_RULES:
        if rule["activity_type"] not in existing_rules:
            db.session.add(PointRule(**rule, api_allowed=rule["activity_type"] not in SYSTEM_ONLY_ACTIVITY_TYPES))
            counts["rules"] += 1
    if not db.session.scalar(select(Tier.key).limit(1)):
        for tier in DEFAULT_TIERS:
            db.session.add(Tier(**tier))
            counts["tiers"] += 1
    if not db.session.scalar(select(Level.level).limit(1)):
        for i, threshold in enumerate(DEFAULT_LEVEL_THRESHOLDS, start=1):
            db.session.add(Level(level=i, threshold=threshold))
            counts["levels"] += 1
    existing_goals = set(db.session.scalars(select(GoalTemplate.key)))
    for tpl in DEFAULT_GOAL_TEMPLATES:
        if tpl["key"] not in existing_goals:
            db.session.add(GoalTemplate(**tpl))
            counts["goal_templates"] += 1
    db.session.commit()
    invalidate()
    return counts
