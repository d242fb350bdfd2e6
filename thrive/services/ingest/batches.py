"""Import bookkeeping for long batches (§12, §15; issue 10 defect 3).

:class:`ImportSummary` counts what an import did (``flask thrive import``,
the OULAD and demo importers), and :func:`award_in_batches` awards
``(line, request)`` items through :func:`award_many` in the short write
transactions of :class:`thrive.db.WriteSlicer` (why and how long: see
:mod:`thrive.db`).

Slicing keeps imports exact: every slice is a complete ``award_events`` /
``award_many`` transaction, outcomes are counted per slice in input order,
event keys make a re-run (or the rest of an interrupted run) answer
duplicates for what was already committed (§4.3).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from more_itertools import chunked
from sqlalchemy import select

from thrive.db import WriteSlicer
from thrive.extensions import db
from thrive.models import LedgerEntry
from thrive.services.errors import EventKeyConflict, ThriveError
from thrive.services.points.award import AwardResult
from thrive.services.points.batch import AwardRequest, award_many, prepare_awards
from thrive.timeutil import as_utc, utcnow

DEFAULT_BATCH_SIZE = 500
#: Rejections kept with their line numbers for the summary (all are counted).
MAX_REJECTIONS_LISTED = 1000
Progress = Callable[[int], None]


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
    """Award ``(line, request)`` items through :func:`award_many` in short transactions (``WriteSlicer``).

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
        results = slicer.run([req for _line, req in chunk],
                             lambda work: award_many(work[0], now=now, prepared=work[1]),
                             prepare=lambda part: (part, prepare_awards(part, now=now)))
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


