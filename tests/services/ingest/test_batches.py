"""Long imports in short write transactions (issue 10 defect 3): the slicer, and exact interrupted re-runs."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from thrive import db as slicing
from thrive.db import WriteSlicer
from thrive.extensions import db
from thrive.models import LedgerEntry
from thrive.services.errors import ValidationError
from thrive.services.ingest.event_files import import_events
from thrive.timeutil import utcnow


class _Clock:
    """A fake ``time.perf_counter``/``time.sleep`` pair: writing costs ``per_item`` seconds an item."""

    def __init__(self, per_item: float):
        self.now, self.per_item, self.slept = 0.0, per_item, []

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def write(self, sizes: list[int]):
        def write(part):
            sizes.append(len(part))
            self.now += self.per_item * len(part)
            return [x * 10 for x in part]
        return write


@pytest.mark.parametrize("per_item", [0.001, 0.01, 0.2])
def test_sqlite_slices_last_about_the_budget_and_keep_order(monkeypatch, per_item):
    clock = _Clock(per_item)
    monkeypatch.setattr(slicing, "time", clock)
    sizes: list[int] = []
    slicer = WriteSlicer(500, sqlite=True)
    items = list(range(1234))
    assert slicer.run(items, clock.write(sizes)) == [x * 10 for x in items]
    assert sum(sizes) == len(items) and max(sizes) <= 500
    assert sizes[0] == slicing.SQLITE_FIRST_SLICE
    # after the first slice every slice holds the lock for at most the budget (or is the smallest slice)
    assert all(n * per_item <= slicing.SQLITE_SLICE_SECONDS + 1e-9 or n <= slicing.SQLITE_MIN_SLICE
               for n in sizes[1:])
    assert len(clock.slept) == len(sizes) - 1  # a pause between two slices, none before the first
    assert all(s == pytest.approx(slicing.SQLITE_PAUSE_SECONDS) for s in clock.slept)


def test_postgresql_slices_are_the_whole_batch_without_pauses(monkeypatch):
    clock = _Clock(0.01)
    monkeypatch.setattr(slicing, "time", clock)
    sizes: list[int] = []
    assert WriteSlicer(500, sqlite=False).run(list(range(1200)), clock.write(sizes))[-1] == 11990
    assert sizes == [500, 500, 200] and clock.slept == []


def test_slice_size_must_be_positive(app_ctx):
    with pytest.raises(ValidationError):
        WriteSlicer(0)


def test_an_interrupted_import_continues_exactly(app_ctx, make_learner, tmp_path, monkeypatch):
    """Stop an import after 150 of 400 rows; the re-run awards the rest, and the totals are those of one run."""
    for n in range(20):
        make_learner(f"sliced{n}", external_id=f"s-{n}")
    day = utcnow() - timedelta(days=2)
    path = tmp_path / "events.jsonl"
    rows = [{"user": f"s-{n % 20}", "activity_type": "comment_posted", "event_key": f"cut:{n}",
             "occurred_at": (day + timedelta(minutes=n)).isoformat()} for n in range(400)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    monkeypatch.setattr(slicing, "SQLITE_PAUSE_SECONDS", 0)

    class Interrupted(Exception):
        pass

    done = []

    def stop_after_150(n: int) -> None:
        done.append(n)
        if sum(done) >= 150:
            raise Interrupted

    with pytest.raises(Interrupted):
        import_events(path, batch_size=50, progress=stop_after_150)
    db.session.remove()
    assert db.session.scalar(select(func.count()).where(LedgerEntry.event_key.like("cut:%"))) == 150

    summary = import_events(path, batch_size=50)
    assert (summary.rows_read, summary.duplicates, summary.awarded, summary.capped) == (400, 150, 250, 0)
    assert summary.points == 250 * 5
    rows, points = db.session.execute(select(func.count(), func.sum(LedgerEntry.points))
                                      .where(LedgerEntry.event_key.like("cut:%"))).one()
    assert (rows, points) == (400, 400 * 5)
