"""Learners per (stored tier, stored level, proposed tier, proposed level) for the ladder what-if (§5, §11).

:func:`grouped_counts` is the one grouped query behind
:func:`thrive.services.admin.ladder.what_if`. On PostgreSQL the proposed tier and
level come from ``width_bucket`` over the proposed thresholds, grouped in SQL
(:func:`bucketed_query`, a few dozen rows); elsewhere (SQLite has no
``width_bucket``) learners are grouped per stored tier, level and peak points
(:func:`grouped_query`) and the proposed table is folded in Python
(:func:`fold`). Both give the same counts; staff who are not learners are left
out by id (the partial index ``ix_learners_staff``), with no join.
"""
from __future__ import annotations

from bisect import bisect_right

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.dialects.postgresql import array as pg_array

from thrive.extensions import db
from thrive.models import Learner, LearnerState
from thrive.services.points.defaults import LEVEL_STEP_BEYOND_TABLE


def stored_tier_index(tier_key_col, tiers: list[dict]):
    """SQL: index in ``tiers`` of the stored tier key (-1 when the key is not on the ladder)."""
    return case({t["key"]: i for i, t in enumerate(tiers)}, value=tier_key_col, else_=-1)


def grouped_query():
    """The one grouped query: learners per (stored tier key, stored level, peak points).

    Independent of the proposed table: the proposed tier and level of each group are folded
    in Python (:func:`fold`), so the database only scans and groups
    ``learner_states`` (a few thousand groups at 100k learners). Staff who are not
    learners are excluded by id through the partial index ``ix_learners_staff``
    (no join with ``learners``).
    """
    s = LearnerState.__table__.c
    staff = select(Learner.id).where(Learner.is_learner.is_(False))
    return (select(s.tier_key, s.level, s.peak_points, func.count())
            .where(s.learner_id.not_in(staff))
            .group_by(s.tier_key, s.level, s.peak_points))


def _tier_index_for(points: int, thresholds: list[int]) -> int:
    """Index (0…) of the highest tier ``points`` reaches (as :func:`thrive.services.admin.ladder._tier_from_points`)."""
    return max(bisect_right(thresholds, points) - 1, 0)


def _level_for(points: int, levels: list[int]) -> int:
    """The level ``points`` reaches (as :func:`thrive.services.admin.ladder._level_from_points`: the table, then one per
    :data:`LEVEL_STEP_BEYOND_TABLE` points beyond its last threshold, §5.2)."""
    last = levels[-1]
    if points >= last:
        return len(levels) + (points - last) // LEVEL_STEP_BEYOND_TABLE
    return max(bisect_right(levels, points), 1)


def fold(rows, tiers: list[dict], levels: list[int]) -> list[tuple[str, int, int, int, int]]:
    """(stored tier key, stored level, new tier index, new level, learners) from the grouped rows —
    the proposed values never lower than the stored ones (§1.2)."""
    thresholds = [t["threshold"] for t in tiers]
    index = {t["key"]: i for i, t in enumerate(tiers)}
    out: dict[tuple, int] = {}
    for key, level, peak, count in rows:
        level, peak = int(level), int(peak)
        new_idx = max(_tier_index_for(peak, thresholds), index.get(key, -1))
        new_level = max(_level_for(peak, levels), level)
        group = (key, level, new_idx, new_level)
        out[group] = out.get(group, 0) + int(count)
    return [(*group, count) for group, count in out.items()]


def bucketed_query(tiers: list[dict], levels: list[int]):
    """PostgreSQL: the same counts grouped in SQL with ``width_bucket`` over the proposed thresholds
    (a binary search per learner), (stored tier key, stored level, new tier index, new level) → learners."""
    s = LearnerState.__table__.c
    tier_arr = pg_array([literal(t["threshold"], Integer) for t in tiers])
    level_arr = pg_array([literal(v, Integer) for v in levels])
    by_points = func.greatest(func.width_bucket(s.peak_points, tier_arr) - 1, 0)
    new_tier = func.greatest(by_points, stored_tier_index(s.tier_key, tiers))
    level_by_points = (func.greatest(func.width_bucket(s.peak_points, level_arr), 1)
                       + func.greatest(s.peak_points - levels[-1], 0) // LEVEL_STEP_BEYOND_TABLE)
    new_level = func.greatest(level_by_points, s.level)
    staff = select(Learner.id).where(Learner.is_learner.is_(False))
    new_tier, new_level = new_tier.label("new_tier"), new_level.label("new_level")
    return (select(s.tier_key, s.level, new_tier, new_level, func.count())  # grouped by the labels:
            .where(s.learner_id.not_in(staff))                               # one set of bound thresholds
            .group_by(s.tier_key, s.level, new_tier, new_level))


def grouped_counts(tiers: list[dict], levels: list[int]):
    """(stored tier key, stored level, new tier index, new level, learners): grouped in SQL on PostgreSQL,
    folded in Python from the per-peak-points groups elsewhere (SQLite has no ``width_bucket``)."""
    if db.engine.dialect.name == "postgresql":
        return [(k, int(lv), int(nt), int(nl), int(c))
                for k, lv, nt, nl, c in db.session.execute(bucketed_query(tiers, levels))]
    return fold(db.session.execute(grouped_query()), tiers, levels)
