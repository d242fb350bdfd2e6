"""My Journey aggregates (§7): category totals and series match the learner's own ledger (§4.4)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner, LedgerEntry
from thrive.models.points import CATEGORIES
from thrive.services.errors import ValidationError
from thrive.services.insights.journey import (
    category_totals,
    journey,
    ledger_page,
    nudge_for,
    parse_window,
    series,
    window_start,
)
from thrive.services.points.award import award

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 12)


def _fresh(learner_id: int) -> Learner:
    db.session.expire_all()
    return db.session.get(Learner, learner_id)


@pytest.fixture
def busy(app_ctx, make_learner):
    """A learner with awards spread over 200 days, capped entries and a negative adjustment; and a peer."""
    learner = make_learner()
    peer = make_learner()
    plan = [
        (0, "quiz_completed", {"difficulty": "advanced"}), (0, "comment_posted", None), (2, "project_created", None),
        (5, "feedback_given", None), (6, "event_attended", None), (7, "battle_won", None),
        (12, "quiz_completed", None), (29, "project_published", None), (30, "comment_posted", None),
        (45, "side_quest_completed", {"difficulty": "advanced"}), (120, "weekly_challenge_completed", None),
        (199, "special_event", None),
    ]
    for i, (days, activity_type, meta) in enumerate(plan):
        award(learner.id, activity_type, event_key=f"j:{i}", occurred_at=NOW - timedelta(days=days, hours=1),
              metadata=meta, now=NOW)
    for i in range(3):  # profile_completed is 1 ever: two capped zero entries
        award(learner.id, "profile_completed", event_key=f"j:p{i}", occurred_at=NOW - timedelta(days=1), now=NOW)
    award(learner.id, "admin_adjustment", event_key="j:adj", occurred_at=NOW - timedelta(days=3), points=-40,
          description="correction", now=NOW)
    award(peer.id, "admin_adjustment", event_key="j:peer", occurred_at=NOW - timedelta(days=1), points=7777,
          description="peer", now=NOW)
    return _fresh(learner.id)


def _ledger_sum(learner_id, start):
    q = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.learner_id == learner_id,
                                                                     LedgerEntry.local_date <= TODAY)
    if start is not None:
        q = q.where(LedgerEntry.local_date >= start)
    return db.session.scalar(q)


@pytest.mark.parametrize("window,days", [("7", 7), ("30", 30), ("all", None)])
def test_category_totals_sum_to_the_ledger(busy, window, days):
    data = journey(busy, window, now=NOW)
    start = TODAY - timedelta(days=days - 1) if days else None
    assert data.end == TODAY and (days is None or data.start == start)
    assert data.total == _ledger_sum(busy.id, start)
    assert sum(c.points for c in data.categories) + data.adjustments == data.total
    assert [c.key for c in data.categories] == list(CATEGORIES)
    for c in data.categories:
        q = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.learner_id == busy.id, LedgerEntry.category == c.key, LedgerEntry.local_date <= TODAY)
        if start is not None:
            q = q.where(LedgerEntry.local_date >= start)
        assert c.points == db.session.scalar(q), c.key
    # the series adds up to the same category totals
    for dataset in data.series.datasets:
        assert sum(dataset["points"]) == next(c.points for c in data.categories if c.key == dataset["key"])
    if days is None:
        assert data.total == busy.state.total_points


@pytest.mark.parametrize("window", ["7", "30", "all"])
def test_one_query_gives_what_the_two_reads_give(busy, window):
    """The page reads totals and series together (issue 12): the same figures as each read alone."""
    data = journey(busy, window, now=NOW)
    totals = category_totals(busy.id, data.start, data.end)
    assert {c.key: c.points for c in data.categories if c.points} == {k: v for k, v in totals.items() if k and v}
    assert data.adjustments == sum(v for k, v in totals.items() if k not in CATEGORIES)
    assert data.series == series(busy.id, data.start, data.end)


def test_window_contents(busy):
    week = journey(busy, "7", now=NOW)
    assert week.adjustments == -40
    by_key = {c.key: c.points for c in week.categories}
    assert by_key["learning"] == 50 and by_key["community"] == 15 and by_key["creation"] == 20
    assert by_key["participation"] == 60  # event 10 + profile 50 (the two capped repeats add 0)
    assert by_key["challenge"] == 0  # battle_won was 7 days ago: outside "today and the 6 days before"
    assert sum(c.percent for c in week.categories) in (99, 100, 101)
    assert week.series.bucket == "day" and len(week.series.labels) == 7
    assert week.series.starts[0] == TODAY - timedelta(days=6) and week.series.starts[-1] == TODAY
    assert week.chart_data["categories"] and all(c["points"] > 0 for c in week.chart_data["categories"])


def test_long_windows_are_bucketed_by_week(busy):
    everything = journey(busy, "all", now=NOW)
    assert everything.start == TODAY - timedelta(days=199)
    assert everything.series.bucket == "week"
    assert all(d.weekday() == 0 for d in everything.series.starts)
    assert everything.series.starts[0] <= everything.start and everything.series.starts[-1] <= TODAY
    month = series(busy.id, TODAY - timedelta(days=29), TODAY)
    assert month.bucket == "day" and len(month.labels) == 30


def test_windows_follow_the_learners_time_zone(app_ctx, make_learner):
    learner = make_learner(timezone="Pacific/Auckland")  # UTC+13 in March
    late = datetime(2026, 3, 12, 11, 30, tzinfo=UTC)  # 13 March 00:30 in Auckland
    award(learner.id, "quiz_completed", event_key="tz:1", occurred_at=late, now=late)
    data = journey(_fresh(learner.id), "7", now=late)
    assert data.end == date(2026, 3, 13) and data.series.starts[-1] == date(2026, 3, 13)
    assert data.series.datasets[1]["key"] == "learning" and data.series.datasets[1]["points"][-1] == 20
    assert window_start(learner.id, "all", date(2026, 3, 13)) == date(2026, 3, 13)


def test_ledger_history_is_own_newest_first_and_paged(busy):
    first = ledger_page(busy.id, None, TODAY, 1, per_page=5)
    assert len(first.rows) == 5 and first.has_next and not first.has_prev
    assert [r.occurred_at for r in first.rows] == sorted((r.occurred_at for r in first.rows), reverse=True)
    rows, page = [], 1
    while True:
        chunk = ledger_page(busy.id, None, TODAY, page, per_page=5)
        rows += chunk.rows
        if not chunk.has_next:
            break
        page += 1
    assert len(rows) == db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                          .where(LedgerEntry.learner_id == busy.id))
    assert sum(r.points for r in rows) == busy.state.total_points
    assert any(r.capped and r.points == 0 for r in rows)
    assert all(r.points != 7777 for r in rows)  # never the peer's entries
    with pytest.raises(ValidationError):
        ledger_page(busy.id, None, TODAY, 0)


def _message(nudge) -> str:
    """The nudge as the learner reads it (worded by the web layer, issue 7: services return data)."""
    from flask import current_app

    from thrive.web.actions import nudge_message

    with current_app.test_request_context():
        return nudge_message(nudge)


def test_nudge_points_to_the_quietest_actionable_category(app_ctx):
    nudge = nudge_for({"learning": 100, "creation": 40, "community": 5, "participation": 60, "challenge": 20,
                       "consistency": 0}, "30")
    assert nudge.category == "community" and nudge.points == 5
    assert "Community is your quietest category in the last 30 days (5 points)" in _message(nudge)
    zero = nudge_for({"learning": 100}, "7")
    assert zero.category == "creation" and zero.points == 0  # ties: §4.2 order; consistency never chosen
    assert _message(zero).startswith("You haven't earned any creation points in the last 7 days.")


def test_unknown_window_is_rejected(app_ctx):
    assert parse_window(None) == "30" and parse_window("all") == "all"
    with pytest.raises(ValidationError):
        parse_window("365")
