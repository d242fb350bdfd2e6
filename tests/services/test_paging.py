"""The one offset pager (issue 7 item 6): validation and next-page detection."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from thrive.models import LedgerEntry
from thrive.services.errors import ValidationError
from thrive.services.paging import MAX_PAGE, fetch_page
from thrive.services.points.award import award


@pytest.mark.parametrize(("page", "per_page"), [(0, 10), (-1, 10), (MAX_PAGE + 1, 10), (2**70, 10), (1, 0),
                                                (1, 101), ("1", 10)])
def test_bad_pages_are_validation_errors(app_ctx, page, per_page):
    with pytest.raises(ValidationError) as info:
        fetch_page(select(LedgerEntry.id), page, per_page)
    assert info.value.code == "invalid_page"


def test_pages_split_rows_and_know_whether_more_follow(app_ctx, make_learner):
    learner = make_learner()
    for i in range(5):
        award(learner.id, "comment_posted", event_key=f"pg{i}")
    stmt = select(LedgerEntry.id).order_by(LedgerEntry.id)
    first, last = fetch_page(stmt, 1, 3, scalars=True), fetch_page(stmt, 2, 3, scalars=True)
    assert (len(first.rows), first.has_next) == (3, True)
    assert (len(last.rows), last.has_next) == (2, False)
    assert set(first.rows).isdisjoint(last.rows)
    assert fetch_page(stmt, 3, 3).rows == []
