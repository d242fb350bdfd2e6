"""Admin learner ledger: an entry says how many later submissions of its key were duplicates (issue 8 item 6)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from thrive.extensions import db
from thrive.services.points.award import award

T0 = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


def _award(app, learner_id: int, key: str, now: datetime) -> None:
    with app.app_context():
        award(learner_id, "comment_posted", event_key=key, now=now)
        db.session.remove()


def _row_of(html: str, key_text: str) -> str:
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if key_text in r]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_ledger_row_counts_later_duplicate_submissions(app, as_admin, make_learner):
    ada = make_learner("ada")
    key = "lms:<b>42</b>"  # an API caller's key, shown escaped
    _award(app, ada.id, key, T0)
    _award(app, ada.id, "lms:single", T0)
    for hour in (1, 3):
        _award(app, ada.id, key, T0.replace(hour=12 + hour))
    html = as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True)
    row = _row_of(html, "<code>lms:&lt;b&gt;42&lt;/b&gt;</code>")
    assert "event key lms:&lt;b&gt;42&lt;/b&gt; — 2 later submissions were duplicates (last" in row
    assert 'datetime="2027-03-10T15:00:00+00:00"' in row
    assert "<b>42</b>" not in html
    assert "duplicate" not in _row_of(html, "<code>lms:single</code>")


def test_one_duplicate_is_worded_in_the_singular(app, as_admin, make_learner):
    ada = make_learner("ada")
    _award(app, ada.id, "k1", T0)
    _award(app, ada.id, "k1", T0.replace(hour=13))
    row = _row_of(as_admin.get(f"/admin/learners/{ada.id}").get_data(as_text=True), "<code>k1</code>")
    assert "event key k1 — 1 later submission was a duplicate (last" in row
