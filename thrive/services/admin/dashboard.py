"""The admin dashboard's figures (§11): SQL aggregates only, small cells suppressed.

Nothing here orders people by points or names anyone (§1.3). Every figure is
an aggregate over learners (staff who are not learners are left out, §11);
a cell that covers fewer than :data:`MIN_CELL` learners is returned as None
("suppressed"). Weeks are platform ISO weeks (``LedgerEntry.week``); each
headline figure comes with the previous week's value beside it.

The whole dashboard is computed by :func:`compute`. In the steady state the
``admin_dashboard`` scheduler job computes it every few minutes into a stored
snapshot (:mod:`thrive.services.admin.dashboard_snapshot`) and :func:`dashboard`
reads that — no admin request waits for the aggregates, whichever gunicorn
worker serves it. Without a recent snapshot (scheduler down, fresh install)
:func:`dashboard` computes live, cached in-process for
``THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS`` (default 60 s; 0 disables it).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select

from thrive.extensions import db
from thrive.models import (
    Circle,
    CircleMembership,
    JobRun,
    Learner,
    LearnerState,
    LedgerEntry,
    ProgressionEvent,
    WeeklyGoal,
)
from thrive.services.admin import dashboard_snapshot as snapshot
from thrive.services.points.registry import load_registry
from thrive.timeutil import platform_week, shift_week, utcnow, week_start_instant

#: No cell is shown for fewer learners than this (§11).
MIN_CELL = 5
WEEKS = 12
STREAK_MARKS = (7, 30, 100)
#: The scheduler job that stores the snapshot (its runs are left out of the job-run list shown).
SNAPSHOT_JOB = "admin_dashboard"


def suppress(value, learners: int):
    """``value`` when it covers at least :data:`MIN_CELL` learners, else None."""
    return value if learners >= MIN_CELL else None


@dataclass(frozen=True)
class WeekRow:
    """One week: active learners, points, points per active learner, tier-ups, goals (None = suppressed)."""

    week: str
    active: int | None
    points: int | None
    points_per_active: float | None
    tier_ups: int | None
    goals: int | None
    goals_completed: int | None
    goal_rate: float | None  # 0–1


@dataclass(frozen=True)
class Share:
    """A distribution cell: ``key`` (tier key, level or streak mark), learners now and a week ago."""

    key: str
    learners: int | None
    previous: int | None
    label: str = ""


@dataclass(frozen=True)
class SourceRow:
    """Where points come from, for one activity type, this week and last week."""

    activity_type: str
    events: int | None
    points: int | None
    cap_rate: float | None  # capped events / events, 0–1
    prev_events: int | None
    prev_points: int | None
    prev_cap_rate: float | None


@dataclass(frozen=True)
class CircleFigures:
    week: str
    circles: int
    min_size: int | None
    max_size: int | None
    inactive: int  # circles whose members earned nothing that week


@dataclass
class Dashboard:
    """Everything the dashboard shows; ``weeks`` oldest → newest (the last is the current week)."""

    week: str
    computed_at: datetime
    weeks: list[WeekRow]
    tiers: list[Share]
    levels: list[Share]
    streaks: list[Share]
    streak_base: int | None
    sources: list[SourceRow]
    circles: CircleFigures
    circles_previous: CircleFigures
    job_runs: list = field(default_factory=list)
    from_snapshot: bool = False  # read from the scheduler's stored snapshot (else computed on the request)

    @property
    def current(self) -> WeekRow:
        return self.weeks[-1]

    @property
    def previous(self) -> WeekRow:
        return self.weeks[-2]


def _staff_ids() -> list[int]:
    """Accounts left out of every figure: staff who are not learners (§11)."""
    return list(db.session.scalars(select(Learner.id).where(Learner.is_learner.is_(False))))


def _not_staff(column, staff: list[int]):
    return column.not_in(staff) if staff else True


def weekly_rows(week: str, staff: list[int]) -> list[WeekRow]:
    """The last :data:`WEEKS` weeks ending with ``week``: activity from the ledger, tier-ups, goals."""
    labels = [shift_week(week, -i) for i in range(WEEKS - 1, -1, -1)]
    activity = {w: (n, p) for w, n, p in db.session.execute(
        select(LedgerEntry.week, func.count(func.distinct(LedgerEntry.learner_id)), func.sum(LedgerEntry.points))
        .where(LedgerEntry.week.in_(labels), LedgerEntry.occurred_at >= week_start_instant(labels[0]),
               _not_staff(LedgerEntry.learner_id, staff))
        .group_by(LedgerEntry.week))}
    bounds = [(w, week_start_instant(w), week_start_instant(shift_week(w, 1))) for w in labels]
    pe = ProgressionEvent
    tier_cols = [func.count(pe.id).filter(and_(pe.occurred_at >= s, pe.occurred_at < e)) for _w, s, e in bounds]
    tier_row = db.session.execute(
        select(*tier_cols).where(pe.kind == "tier_up", pe.occurred_at >= bounds[0][1], _not_staff(pe.learner_id, staff))
    ).one()
    goal_stats = {w: (g, c, n) for w, g, c, n in db.session.execute(
        select(WeeklyGoal.week, func.count(WeeklyGoal.id), func.count(WeeklyGoal.completed_at),
               func.count(func.distinct(WeeklyGoal.learner_id)))
        .where(WeeklyGoal.week.in_(labels)).group_by(WeeklyGoal.week))}
    rows = []
    for i, w in enumerate(labels):
        active, points = activity.get(w, (0, 0))
        points = int(points or 0)
        goals, completed, goal_learners = goal_stats.get(w, (0, 0, 0))
        ok = active >= MIN_CELL
        rows.append(WeekRow(
            week=w, active=suppress(active, active), points=points if ok else None,
            points_per_active=round(points / active, 1) if ok else None,
            tier_ups=int(tier_row[i]) if ok else None,
            goals=suppress(goals, goal_learners), goals_completed=suppress(completed, goal_learners),
            goal_rate=suppress(completed / goals if goals else 0.0, goal_learners),
        ))
    return rows


def _learner_filter():
    return and_(Learner.is_learner.is_(True), Learner.is_active_account.is_(True))


def tier_levels(now: datetime) -> tuple[list[Share], list[Share]]:
    """Tier and level distributions of learners now and 7 days ago (from the last tier/level-up before then)."""
    registry = load_registry()
    cutoff = now - timedelta(days=7)
    tiers_now = dict(db.session.execute(
        select(LearnerState.tier_key, func.count()).join(Learner, Learner.id == LearnerState.learner_id)
        .where(_learner_filter()).group_by(LearnerState.tier_key)).all())
    levels_now = dict(db.session.execute(
        select(LearnerState.level, func.count()).join(Learner, Learner.id == LearnerState.learner_id)
        .where(_learner_filter()).group_by(LearnerState.level)).all())
    tiers_then = _as_of(cutoff, "tier_up", registry.tiers[0].key)
    levels_then = {int(k): v for k, v in _as_of(cutoff, "level_up", "1").items()}
    tiers = [Share(t.key, suppress(tiers_now.get(t.key, 0), tiers_now.get(t.key, 0)),
                   suppress(tiers_then.get(t.key, 0), tiers_then.get(t.key, 0)), f"{t.emoji} {t.name}")
             for t in registry.tiers]
    levels = [Share(str(lv), suppress(levels_now.get(lv, 0), levels_now.get(lv, 0)),
                    suppress(levels_then.get(lv, 0), levels_then.get(lv, 0)))
              for lv in sorted(set(levels_now) | set(levels_then))]
    return tiers, levels


def _as_of(cutoff: datetime, kind: str, lowest: str) -> dict[str, int]:
    """Learners who existed before ``cutoff`` (created, or with an award, before it — imports create
    accounts with older activity) by the value of their last ``kind`` event before it."""
    pe = ProgressionEvent
    last = (select(pe.learner_id, func.max(pe.id).label("last_id"))
            .where(pe.kind == kind, pe.occurred_at < cutoff).group_by(pe.learner_id).subquery())
    rows = db.session.execute(
        select(pe.to_value, func.count())
        .select_from(Learner)
        .outerjoin(last, last.c.learner_id == Learner.id)
        .outerjoin(pe, pe.id == last.c.last_id)
        .where(_learner_filter(), or_(Learner.created_at < cutoff, exists().where(
            LedgerEntry.learner_id == Learner.id, LedgerEntry.occurred_at < cutoff)))
        .group_by(pe.to_value)).all()
    out: dict[str, int] = {}
    for value, count in rows:  # no event before the cutoff: still on the lowest tier / level 1
        key = lowest if value is None else str(value)
        out[key] = out.get(key, 0) + int(count)
    return out


def streak_survival() -> tuple[list[Share], int | None]:
    """Share of learners who ever had an award whose longest streak reached 7, 30, 100 days.

    Returns (cells with ``learners`` = how many reached the mark, the base count); no previous week
    (the longest streak a week ago is not recorded).
    """
    ls = LearnerState
    cols = [func.count().filter(ls.longest_streak >= m) for m in STREAK_MARKS]
    base, *reached = db.session.execute(
        select(func.count(), *cols).join(Learner, Learner.id == ls.learner_id)
        .where(_learner_filter(), ls.last_award_at.is_not(None))).one()
    if base < MIN_CELL:
        return [Share(str(m), None, None) for m in STREAK_MARKS], None
    return [Share(str(m), suppress(int(n), int(n)), None) for m, n in zip(STREAK_MARKS, reached, strict=True)], base


def point_sources(week: str, staff: list[int]) -> list[SourceRow]:
    """Per activity type, this week and last: events, points, cap-hit rate (types with < 5 learners suppressed)."""
    prev = shift_week(week, -1)
    le = LedgerEntry
    stats = {}
    for w, activity, events, points, capped, learners in db.session.execute(
            select(le.week, le.activity_type, func.count(le.id), func.sum(le.points),
                   func.count(le.id).filter(le.capped.is_(True)), func.count(func.distinct(le.learner_id)))
            .where(le.week.in_([week, prev]), le.occurred_at >= week_start_instant(prev),
                   _not_staff(le.learner_id, staff))
            .group_by(le.week, le.activity_type)):
        ok = learners >= MIN_CELL
        stats[(w, activity)] = (events if ok else None, int(points or 0) if ok else None,
                                (capped / events if events else 0.0) if ok else None)
    types = sorted({a for _w, a in stats})
    empty = (None, None, None)
    return [SourceRow(a, *stats.get((week, a), empty), *stats.get((prev, a), empty)) for a in types]


def circle_figures(week: str) -> CircleFigures:
    """This week's circles: count, size range, circles whose members earned nothing yet."""
    cm = CircleMembership
    sizes = db.session.execute(
        select(Circle.id, func.count(cm.id), func.coalesce(func.sum(cm.points), 0))
        .outerjoin(cm, cm.circle_id == Circle.id).where(Circle.week == week).group_by(Circle.id)).all()
    counts = [n for _id, n, _p in sizes]
    return CircleFigures(week, len(sizes), min(counts) if counts else None, max(counts) if counts else None,
                         sum(1 for _id, _n, p in sizes if not p))


def compute(now: datetime | None = None) -> Dashboard:
    """Compute every figure as of ``now`` (UTC instant; default the clock), uncached."""
    now = now or utcnow()
    week = platform_week(now)
    staff = _staff_ids()
    tiers, levels = tier_levels(now)
    streaks, base = streak_survival()
    return Dashboard(
        week=week, computed_at=now, weeks=weekly_rows(week, staff), tiers=tiers, levels=levels, streaks=streaks,
        streak_base=base, sources=point_sources(week, staff), circles=circle_figures(week),
        circles_previous=circle_figures(shift_week(week, -1)), job_runs=_jobs(),
    )


def _jobs() -> list:
    """The 10 latest job runs, leaving out the dashboard's own frequent refreshes."""
    runs = list(db.session.scalars(select(JobRun).where(JobRun.job != SNAPSHOT_JOB)
                                   .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(10)))
    for run in runs:
        db.session.expunge(run)
    return runs


_cache: dict[str, tuple[float, Dashboard]] = {}
_lock = threading.Lock()


def dashboard(now: datetime | None = None) -> Dashboard:
    """The dashboard to show: the scheduler's snapshot when recent, else :func:`compute`.

    With ``now`` (UTC instant) always computed as of then. Otherwise the stored
    snapshot (``from_snapshot`` True; job runs read with it) if it is at most
    ``THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS`` old, failing that
    :func:`compute`; either kept per process and database for
    ``THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS`` (0 = read every time). A request
    never waits for :func:`compute` while the scheduler keeps the snapshot fresh.
    """
    if now is not None:
        return compute(now)
    ttl = int(current_app.config.get("THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS", 60))
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    hit = _cache.get(key) if ttl > 0 else None
    if hit and time.monotonic() < hit[0]:
        return hit[1]
    result = snapshot.latest()
    if result is not None:
        result.job_runs = _jobs()
        db.session.commit()
    else:
        result = compute()
    if ttl > 0:
        with _lock:
            _cache[key] = (time.monotonic() + ttl, result)
    return result


def invalidate() -> None:
    """Forget cached dashboards (tests; after bulk changes)."""
    with _lock:
        _cache.clear()
