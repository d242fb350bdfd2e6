"""Import bookkeeping and short write transactions for long batches (§12, §15; issue 10 defect 3).

:class:`ImportSummary` counts what an import did (``flask thrive import``,
the OULAD and demo importers). :class:`WriteSlicer` runs a long batch as a
series of short write transactions, and :func:`award_in_batches` awards
``(line, request)`` items through it.

Why slices: SQLite has one write lock for the whole file. A 500-event batch
held it for 4.5–5.5 s on the shared 2-core machine (measured with
``award_events`` on a file database: 50 events 0.66 s, 100 events 1.2–1.5 s,
200 events 2.4–2.5 s, 500 events 4.5–5.5 s, 1,000 events 8.3–11.6 s, i.e.
about 10 ms per event), and every web write (sign-up, settings, a cheer)
waited behind it. On SQLite a slice therefore starts at
:data:`SQLITE_FIRST_SLICE` events and is resized after each commit so that
one transaction lasts about :data:`SQLITE_SLICE_SECONDS`; between slices
the importer steps aside for :data:`SQLITE_PAUSE_SECONDS`, longer than
SQLite's busy handler sleeps between two attempts (at most 100 ms), so a
waiting web request takes the lock instead of the importer taking it straight
back. A web write then waits about one slice (≈ 0.5 s) per write
transaction it opens, under the ~2 s allowed (``tests/web/test_writes_during_import.py``
measured at most 0.65–1.2 s of waiting for the lock with the machine's load
average at 13–16). On PostgreSQL writers lock rows, not the database, so a
slice is the caller's whole ``batch_size``.

Slicing keeps imports exact: every slice is a complete ``award_events`` /
``award_many`` transaction, outcomes are counted per slice in input order,
event keys make a re-run (or the rest of an interrupted run) answer
duplicates for what was already committed (§4.3).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from more_itertools import chunked
from sqlalchemy import select

from thrive.db import is_sqlite
from thrive.extensions import db
from thrive.models import LedgerEntry
from thrive.services.errors import EventKeyConflict, ThriveError, ValidationError
from thrive.services.points.award import AwardResult
from thrive.services.points.batch import AwardRequest, award_many
from thrive.timeutil import as_utc, utcnow

DEFAULT_BATCH_SIZE = 500
#: Rejections kept with their line numbers for the summary (all are counted).
MAX_REJECTIONS_LISTED = 1000
#: SQLite: the time one slice should hold the write lock (seconds).
SQLITE_SLICE_SECONDS = 0.5
#: SQLite: events in the first slice (≈ 0.2 s at the measured ~10 ms per event), and the smallest slice.
SQLITE_FIRST_SLICE = 20
SQLITE_MIN_SLICE = 5
#: SQLite: pause between two slices (seconds) so that writers waiting on the busy handler get the lock.
SQLITE_PAUSE_SECONDS = 0.15

Progress = Callable[[int], None]
T = TypeVar("T")
R = TypeVar("R")


class WriteSlicer:
    """Run a long batch as short write transactions (see the module docstring).

    ``max_size`` bounds the items per transaction. On SQLite (decided from
    the bound engine unless ``sqlite`` is given) slices are sized to last
    about ``slice_seconds`` each and separated by ``pause_seconds``; on
    PostgreSQL every slice is ``max_size`` items and there is no pause. One
    slicer may serve several calls of :meth:`run` (the pause also separates
    the last slice of one call from the first of the next).
    """

    def __init__(self, max_size: int, *, sqlite: bool | None = None, slice_seconds: float = SQLITE_SLICE_SECONDS,
                 pause_seconds: float = SQLITE_PAUSE_SECONDS):
        if max_size < 1:
            raise ValidationError("batch size must be at least 1")
        self.max_size = max_size
        self.sqlite = is_sqlite() if sqlite is None else sqlite
        self.slice_seconds = slice_seconds
        self.pause_seconds = pause_seconds if self.sqlite else 0.0
        self.size = min(max_size, SQLITE_FIRST_SLICE) if self.sqlite else max_size
        self.slices = 0
        self._last_commit: float | None = None

    def run(self, items: Sequence[T], write: Callable[[Sequence[T]], Sequence[R]]) -> list[R]:
        """Call ``write(slice)`` (one transaction per call) over consecutive slices of ``items``.

        ``write`` must answer one outcome per item, in order; the outcomes of
        all slices are returned in the order of ``items``.
        """
        out: list[R] = []
        start = 0
        while start < len(items):
            part = items[start:start + self.size]
            self._step_aside()
            began = time.perf_counter()
            outcomes = write(part)
            self._last_commit = time.perf_counter()
            if len(outcomes) != len(part):  # pragma: no cover - a contract violation of ``write``
                raise RuntimeError(f"{len(outcomes)} outcomes for a slice of {len(part)} items")
            out.extend(outcomes)
            self.slices += 1
            start += len(part)
            self._resize(len(part), self._last_commit - began)
        return out

    def _step_aside(self) -> None:
        if self._last_commit is None or not self.pause_seconds:
            return
        left = self.pause_seconds - (time.perf_counter() - self._last_commit)
        if left > 0:
            time.sleep(left)

    def _resize(self, done: int, seconds: float) -> None:
        if not self.sqlite or seconds <= 0:
            return
        fitting = int(done * self.slice_seconds / seconds)
        self.size = max(SQLITE_MIN_SLICE, min(self.max_size, fitting, self.size * 2))


@dataclass(frozen=True)
class Rejection:
    """A rejected row: ``line`` is its 1-based line number in the file (the CSV row's first line)."""

    line: int
    reason: str


@dataclass
class ImportSummary:
    """Counts of an import run.

    ``rows_read`` = ``awarded + duplicates + capped + skipped + rejected``
    (``pending`` instead of ``awarded + capped`` in a dry run, which cannot
    know caps without writing). ``awarded``/``capped`` count new ledger
    entries with/without points; ``points`` is the sum awarded.
    """

    rows_read: int = 0
    awarded: int = 0
    duplicates: int = 0
    capped: int = 0
    skipped: int = 0
    rejected: int = 0
    pending: int = 0
    points: int = 0
    learners_created: int = 0
    dry_run: bool = False
    rejections: list[Rejection] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str, kind: str | None = None) -> None:
        """Count one rejected row; ``kind`` groups reasons in the summary (defaults to ``reason``)."""
        self.rejected += 1
        self.reasons[kind or reason] += 1
        if len(self.rejections) < MAX_REJECTIONS_LISTED:
            self.rejections.append(Rejection(line, reason))

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` rows skipped on purpose (not an error), grouped by ``reason``."""
        self.skipped += count
        self.skip_reasons[reason] += count

    def tally(self, result: AwardResult) -> None:
        """Count one award result."""
        if result.duplicate:
            self.duplicates += 1
        elif result.capped:
            self.capped += 1
        else:
            self.awarded += 1
            self.points += result.points_awarded

    @property
    def accounted(self) -> int:
        """Rows with an outcome; equals ``rows_read`` once the run is over."""
        return self.awarded + self.duplicates + self.capped + self.skipped + self.rejected + self.pending

    def lines(self, *, rejection_limit: int = 20) -> list[str]:
        """The human summary printed by the CLI."""
        out = [f"Rows read:   {self.rows_read:,}"]
        if self.dry_run:
            out.append(f"Valid, new:  {self.pending:,} (would be awarded or capped)")
            out.append(f"Duplicates:  {self.duplicates:,} (event key already imported)")
        else:
            out.append(f"Awarded:     {self.awarded:,} ({self.points:,} points)")
            out.append(f"Duplicates:  {self.duplicates:,}")
            out.append(f"Capped:      {self.capped:,}")
        if self.skipped or self.skip_reasons:
            detail = ", ".join(f"{n:,} {why}" for why, n in self.skip_reasons.most_common())
            out.append(f"Skipped:     {self.skipped:,}" + (f" ({detail})" if detail else ""))
        out.append(f"Rejected:    {self.rejected:,}")
        for why, n in self.reasons.most_common():
            out.append(f"  {n:,} × {why}")
        for r in self.rejections[:rejection_limit]:
            out.append(f"  line {r.line}: {r.reason}")
        if self.rejected > rejection_limit:
            out.append(f"  … and {self.rejected - rejection_limit:,} more rejected rows")
        if self.learners_created:
            out.append(f"Learners created: {self.learners_created:,}")
        out.extend(self.notes)
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        return out


def award_in_batches(
    items: Iterable[tuple[int, AwardRequest]],
    summary: ImportSummary,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    progress: Progress | None = None,
    conflict_is_duplicate: bool = False,
) -> None:
    """Award ``(line, request)`` items through :func:`award_many` in short transactions (:class:`WriteSlicer`).

    Tallies every result into ``summary``; a :class:`ThriveError` for an item
    counts as a rejection of its line. With ``conflict_is_duplicate`` an
    ``EventKeyConflict`` whose existing entry has the same learner and
    activity type (the event was imported before with another payload, e.g.
    at another ``--shift-to-now`` week) counts as a duplicate.
    ``progress(n)`` is called after each ``batch_size`` items with the number done.
    Each slice (at most ``batch_size`` items; shorter on SQLite) commits on
    its own: an interrupted import keeps the finished slices, and running it
    again completes it (duplicates are free).
    """
    slicer = WriteSlicer(batch_size)
    now = as_utc(now) if now else utcnow()
    shifted = 0
    for chunk in chunked(items, batch_size):
        results = slicer.run([req for _line, req in chunk], lambda part: award_many(part, now=now))
        for (line, req), result in zip(chunk, results, strict=True):
            if isinstance(result, AwardResult):
                summary.tally(result)
            elif conflict_is_duplicate and isinstance(result, EventKeyConflict) and _same_event(req):
                summary.duplicates += 1
                shifted += 1
            elif isinstance(result, ThriveError):
                summary.reject(line, result.message, kind=result.code.replace("_", " "))
            else:  # pragma: no cover - award_many only returns results or ThriveErrors
                raise result
        if progress:
            progress(len(chunk))
    if shifted:
        summary.notes.append(
            f"{shifted:,} duplicate(s) had been imported before at another instant "
            "(e.g. with --shift-to-now in an earlier week); they were left as they are."
        )


def _same_event(req: AwardRequest) -> bool:
    """True when the ledger entry holding ``req.event_key`` has ``req``'s learner and activity type."""
    row = db.session.execute(
        select(LedgerEntry.learner_id, LedgerEntry.activity_type).where(LedgerEntry.event_key == req.event_key)
    ).first()
    db.session.commit()
    return row is not None and tuple(row) == (req.learner_id, req.activity_type)


