"""Duplicate submissions are counted beside their ledger entry (§4.3, §4.4; issue 8 item 6)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import LedgerDuplicate, LedgerEntry
from thrive.services.errors import EventKeyConflict
from thrive.services.points.award import award
from thrive.services.points.batch import AwardRequest, award_many

T0 = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def duplicates_of(event_key: str) -> tuple[int, datetime | None] | None:
    db.session.expire_all()
    row = db.session.execute(
        select(LedgerDuplicate.count, LedgerDuplicate.last_at)
        .join(LedgerEntry, LedgerEntry.id == LedgerDuplicate.ledger_entry_id)
        .where(LedgerEntry.event_key == event_key)).first()
    if row is None:
        return None
    last = row.last_at if row.last_at.tzinfo else row.last_at.replace(tzinfo=UTC)
    return row.count, last


def test_a_first_award_has_no_duplicates(app_ctx, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="d0", now=T0)
    assert duplicates_of("d0") is None


def test_each_repeated_submission_is_counted_with_its_time(app_ctx, make_learner):
    learner = make_learner()
    first = award(learner.id, "comment_posted", event_key="d1", now=T0)
    award(learner.id, "comment_posted", event_key="d1", now=T0 + timedelta(hours=1))
    again = award(learner.id, "comment_posted", event_key="d1", now=T0 + timedelta(hours=2))
    assert again.duplicate and again.event_id == first.event_id
    assert duplicates_of("d1") == (2, T0 + timedelta(hours=2))
    # An answer given out of order (an earlier instant) never moves the last time back.
    award(learner.id, "comment_posted", event_key="d1", now=T0 + timedelta(minutes=30))
    assert duplicates_of("d1") == (3, T0 + timedelta(hours=2))
    # Nothing else changed: still one entry, the learner's points as after the first.
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
    assert again.total_points == first.total_points == 5


def test_a_conflicting_reuse_is_rejected_and_not_counted(app_ctx, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="d2", now=T0)
    with pytest.raises(EventKeyConflict):
        award(learner.id, "comment_posted", event_key="d2", description="other payload", now=T0)
    assert duplicates_of("d2") is None


def test_award_many_counts_repeats_in_the_batch_and_of_earlier_entries(app_ctx, make_learner):
    learner, other = make_learner(), make_learner()
    award(learner.id, "comment_posted", event_key="d3", now=T0)
    results = award_many([
        AwardRequest(learner.id, "comment_posted", "d3"),        # an earlier entry
        AwardRequest(other.id, "comment_posted", "d4"),          # new …
        AwardRequest(other.id, "comment_posted", "d4"),          # … and repeated twice in the batch
        AwardRequest(other.id, "comment_posted", "d4"),
        AwardRequest(other.id, "comment_posted", "d3"),          # another learner's key: a conflict
    ], now=T0 + timedelta(days=1))
    assert [getattr(r, "duplicate", None) for r in results] == [True, False, True, True, None]
    assert isinstance(results[4], EventKeyConflict)
    assert duplicates_of("d3") == (1, T0 + timedelta(days=1))
    assert duplicates_of("d4") == (2, T0 + timedelta(days=1))
    # A re-run of the whole batch adds one per submission.
    award_many([AwardRequest(other.id, "comment_posted", "d4")] * 3, now=T0 + timedelta(days=2))
    assert duplicates_of("d4") == (5, T0 + timedelta(days=2))


def test_a_dry_run_counts_nothing(app_ctx, make_learner):
    learner = make_learner()
    award(learner.id, "comment_posted", event_key="d5", now=T0)
    award_many([AwardRequest(learner.id, "comment_posted", "d5")], now=T0, dry_run=True)
    assert duplicates_of("d5") is None


@pytest.fixture
def app_config(database_url):
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "t",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 0}
            if database_url.startswith("postgresql") else {}}


def test_concurrent_submissions_of_one_key_award_once_and_count_the_rest(app, make_learner):
    learner = make_learner()
    n = 12
    barrier = threading.Barrier(n)

    def one(_i):
        with app.app_context():
            barrier.wait()
            try:
                return award(learner.id, "comment_posted", event_key="race", now=T0).duplicate
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=n) as pool:
        duplicates = list(pool.map(one, range(n)))
    assert duplicates.count(False) == 1
    with app.app_context():
        assert duplicates_of("race") == (n - 1, T0)
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1
