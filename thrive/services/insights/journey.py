"""My Journey: a learner's own ledger history and points by category (§7).

Windows are counted in the learner's local days (their time zone, §3):
``"7"`` is today and the six days before, ``"30"`` likewise, ``"all"`` is
everything. All figures come straight from the learner's own ledger (§4.4),
so the category totals plus admin adjustments always sum to the ledger.
Nothing here reads another learner's data (§1.3).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import LedgerEntry
from thrive.models.points import CATEGORIES
from thrive.services.errors import ValidationError
from thrive.services.insights.recommendations import ACTIONS
from thrive.services.paging import fetch_page
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, local_date, utcnow

#: Window keys → number of local days (None = all time).
WINDOWS: dict[str, int | None] = {"7": 7, "30": 30, "all": None}
DEFAULT_WINDOW = "30"
PER_PAGE = 25
#: A series longer than this many days is bucketed by ISO week instead of by day.
MAX_DAILY_BUCKETS = 92

@dataclass(frozen=True)
class CategoryTotal:
    """Points (integer, may be 0) of one §4.2 category in the window; ``percent`` of the positive total.

    Labels and chart colours are presentation (``thrive/web/journey/chart.py``).
    """

    key: str
    points: int
    percent: int


@dataclass(frozen=True)
class Series:
    """Stacked series: ``labels`` per bucket (ISO first dates); ``datasets`` one per category (``key``,
    ``points`` per bucket).

    ``bucket`` is ``"day"`` (local dates) or ``"week"`` (weeks starting Monday, local dates).
    ``starts`` holds each bucket's first local date.
    """

    bucket: str
    labels: list[str]
    starts: list[date]
    datasets: list[dict]


@dataclass(frozen=True)
class Nudge:
    """A suggestion toward the least-used category: ``points`` earned there in ``window``, and
    ``activity_type``, an enabled activity of that category to try (worded by the web layer)."""

    category: str
    points: int
    activity_type: str
    window: str


@dataclass(frozen=True)
class LedgerRow:
    """One ledger entry as the learner sees it: local date, label, category, points, capped."""

    id: int
    local_date: date
    occurred_at: datetime
    activity_type: str
    label: str
    category: str | None
    points: int
    capped: bool
    description: str | None


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class Journey:
    """Everything My Journey shows for one window.

    ``start`` is the first local date of the window (None for all time when
    the ledger is empty); ``end`` is today (local). ``total`` is the sum of
    all ledger points in the window = sum of ``categories`` + ``adjustments``.
    """

    window: str
    start: date | None
    end: date
    categories: list[CategoryTotal]
    adjustments: int
    total: int
    series: Series
    nudge: Nudge | None
    ledger: LedgerPage
    chart_data: dict = field(default_factory=dict)


def parse_window(value: str | None) -> str:
    """Validate a window key (``"7"``, ``"30"``, ``"all"``; None → default). Raises ``ValidationError``."""
    if value in (None, ""):
        return DEFAULT_WINDOW
    if value not in WINDOWS:
        raise ValidationError("days must be 7, 30 or all", code="invalid_window")
    return value


def window_start(learner_id: int, window: str, today: date) -> date | None:
    """First local date of ``window`` ending ``today``; for ``"all"`` the learner's first ledger date."""
    days = WINDOWS[parse_window(window)]
    if days is not None:
        return today - timedelta(days=days - 1)
    return db.session.scalar(select(func.min(LedgerEntry.local_date)).where(LedgerEntry.learner_id == learner_id))


def _in_window(start: date | None, end: date):
    conditions = [LedgerEntry.local_date <= end]
    if start is not None:
        conditions.append(LedgerEntry.local_date >= start)
    return conditions


def _daily_points_statement(learner_id: int, start: date | None, end: date, *, with_adjustments: bool):
    conditions = [LedgerEntry.learner_id == learner_id, *_in_window(start, end)]
    if not with_adjustments:
        conditions.append(LedgerEntry.category.is_not(None))
    return (select(LedgerEntry.local_date, LedgerEntry.category, func.sum(LedgerEntry.points))
            .where(*conditions).group_by(LedgerEntry.local_date, LedgerEntry.category))


def _totals_from(rows) -> dict[str | None, int]:
    totals: dict[str | None, int] = defaultdict(int)
    for _day, category, points in rows:
        totals[category] += int(points or 0)
    return dict(totals)


def category_totals(learner_id: int, start: date | None, end: date) -> dict[str | None, int]:
    """Sum of ledger points per category between local dates ``start`` and ``end`` (inclusive).

    ``start`` None means from the beginning. The key None holds entries
    without a category (admin adjustments).
    """
    rows = db.session.execute(
        select(LedgerEntry.category, func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.learner_id == learner_id, *_in_window(start, end))
        .group_by(LedgerEntry.category)
    ).all()
    return {category: int(points) for category, points in rows}


def _bucket_starts(start: date, end: date) -> tuple[str, list[date]]:
    span = (end - start).days + 1
    if span <= MAX_DAILY_BUCKETS:
        return "day", [start + timedelta(days=i) for i in range(span)]
    first_monday = start - timedelta(days=start.weekday())
    weeks = ((end - first_monday).days // 7) + 1
    return "week", [first_monday + timedelta(weeks=i) for i in range(weeks)]


def series(learner_id: int, start: date | None, end: date) -> Series:
    """Points per category per day (or per week for long windows) between ``start`` and ``end``."""
    if start is None or start > end:
        start = end
    rows = db.session.execute(_daily_points_statement(learner_id, start, end, with_adjustments=False)).all()
    return _series_from(rows, start, end)


def _series_from(rows, start: date, end: date) -> Series:
    """The chart's series from ``(local date, category, points)`` rows (rows without a category left out)."""
    bucket, starts = _bucket_starts(start, end)
    index = {d: i for i, d in enumerate(starts)}
    values: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for day, category, points in rows:
        if category is None:
            continue
        key = day if bucket == "day" else day - timedelta(days=day.weekday())
        values[category][index[key]] += int(points or 0)
    datasets = [{"key": c, "points": values[c]} for c in CATEGORIES]
    return Series(bucket=bucket, labels=[d.isoformat() for d in starts], starts=starts, datasets=datasets)


def _totals_and_series(learner_id: int, start: date | None, end: date) -> tuple[dict[str | None, int], Series]:
    """:func:`category_totals` and :func:`series` of one window from one query (issue 12) when they share it."""
    if start is None or start > end:  # an empty window: the chart still shows ``end`` (as series does)
        return category_totals(learner_id, start, end), series(learner_id, start, end)
    rows = db.session.execute(_daily_points_statement(learner_id, start, end, with_adjustments=True)).all()
    return _totals_from(rows), _series_from(rows, start, end)


def ledger_page(learner_id: int, start: date | None, end: date, page: int = 1,
                per_page: int = PER_PAGE) -> LedgerPage:
    """Page ``page`` (1-based) of the learner's own ledger in the window, newest first.

    Capped entries (0 points) are included: this is the learner's own audit
    trail. Raises ``ValidationError`` for a page below 1.
    """
    e = LedgerEntry  # the columns shown, not whole entities (metadata and all: issue 12)
    result = fetch_page(select(e.id, e.local_date, e.occurred_at, e.activity_type, e.category, e.points, e.capped,
                               e.description)
                        .where(e.learner_id == learner_id, *_in_window(start, end))
                        .order_by(e.occurred_at.desc(), e.id.desc()),
                        page, per_page)
    registry = load_registry()
    rows = [
        LedgerRow(id=e.id, local_date=e.local_date, occurred_at=e.occurred_at, activity_type=e.activity_type,
                  label=(registry.rules[e.activity_type].label if e.activity_type in registry.rules
                         else e.activity_type.replace("_", " ").capitalize()),
                  category=e.category, points=e.points, capped=e.capped, description=e.description)
        for e in result.rows
    ]
    return LedgerPage(rows=rows, page=page, per_page=per_page, has_next=result.has_next)


def nudge_for(totals: dict[str | None, int], window: str) -> Nudge | None:
    """A nudge toward the category with the fewest points in the window.

    Only categories the learner can act on (an enabled suggestible activity
    exists) are considered — consistency is earned by showing up, so it is
    never the target. Ties go to the first category in §4.2 order.
    """
    registry = load_registry()
    options: dict[str, str] = {}
    for activity_type in ACTIONS:
        rule = registry.rules.get(activity_type)
        if rule is None or not rule.enabled or rule.category in (None, "consistency"):
            continue
        if activity_type == "profile_completed":
            continue
        options.setdefault(rule.category, activity_type)
    if not options:
        return None
    category = min((c for c in CATEGORIES if c in options), key=lambda c: (totals.get(c, 0), CATEGORIES.index(c)))
    return Nudge(category=category, points=totals.get(category, 0), activity_type=options[category], window=window)


def journey(learner, window: str | None = None, page: int = 1, now: datetime | None = None) -> Journey:
    """My Journey for ``learner`` (a Learner) over ``window`` at ``now`` (UTC instant).

    Raises ``ValidationError`` for an unknown window or a page below 1.
    """
    window = parse_window(window)
    now = as_utc(now) if now else utcnow()
    today = local_date(now, learner.timezone)
    start = window_start(learner.id, window, today)
    totals, stacked = _totals_and_series(learner.id, start, today)
    positive = sum(max(totals.get(c, 0), 0) for c in CATEGORIES) or 1
    categories = [
        CategoryTotal(key=c, points=totals.get(c, 0),
                      percent=round(max(totals.get(c, 0), 0) * 100 / positive))
        for c in CATEGORIES
    ]
    adjustments = sum(v for k, v in totals.items() if k not in CATEGORIES)
    chart_data = {
        "categories": [{"key": c.key, "points": c.points} for c in categories if c.points > 0],
        "series": {"bucket": stacked.bucket, "labels": stacked.labels,
                   "datasets": [{"key": d["key"], "points": d["points"]}
                                for d in stacked.datasets if any(d["points"])]},
    }
    return Journey(
        window=window, start=start, end=today, categories=categories, adjustments=adjustments,
        total=sum(totals.values()), series=stacked, nudge=nudge_for(totals, window),
        ledger=ledger_page(learner.id, start, today, page), chart_data=chart_data,
    )
