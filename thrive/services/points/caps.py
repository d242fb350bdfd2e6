"""Caps of an award (§4.2): uncapped counts per learner and type, by local day, ISO week and ever.

Counts live in the transaction's :class:`~thrive.services.points.locks.CapCounts` (read once —
folded into the lock on SQLite, one grouped query per batch — and kept up to date in memory);
a count not known yet is read with one prebuilt statement.

On PostgreSQL the counts of a single award are read after the learner's row lock (a statement that waited
for the lock still reads its subqueries from the snapshot taken before the wait, so they cannot ride in the
locking statement). That one post-lock statement also carries the *after-lock reads* other services
register with :func:`register_after_lock_read` (e.g. the weekly goals' open-goal check): one round trip.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from thrive.models import LedgerEntry
from thrive.services.points.driver_sql import DriverStatement
from thrive.services.points.locks import AwardTx, CapCounts
from thrive.services.points.registry import RuleSnapshot


def _active_days(session: Session, learner_id: int) -> list:
    """The learner's streak-active local dates in the ledger (see ``counts_for_streak``)."""
    return list(session.scalars(
        select(_ledger.local_date).distinct().where(
            _ledger.learner_id == learner_id, _ledger.points > 0, _ledger.category.is_not(None),
            _ledger.category != "consistency",
        )
    ))


_ledger = LedgerEntry.__table__.c
_COUNT_UNCAPPED = select(func.count(_ledger.id)).where(
    _ledger.learner_id == bindparam("learner_id"),
    _ledger.activity_type == bindparam("activity_type"),
    _ledger.capped.is_(False),
)
_COUNT_BY = {
    "ever": _COUNT_UNCAPPED,
    "day": _COUNT_UNCAPPED.where(_ledger.local_date == bindparam("value")),
    "week": _COUNT_UNCAPPED.where(_ledger.week == bindparam("value")),
}


@dataclass(frozen=True)
class AfterLockRead:
    """A scalar read folded into the post-lock cap statement (PostgreSQL; see the module docstring).

    ``column``: a labelled scalar subquery (binds ``learner_id`` and may bind ``week``: the award's platform
    ISO week); ``wanted(tx, learner_id)``: whether its answer is still unknown in the transaction;
    ``take(tx, learner_id, value)``: keeps the answer (e.g. in ``tx.memo``).
    """

    column: object
    wanted: Callable[[AwardTx, int], bool]
    take: Callable[[AwardTx, int, object], None]


_after_lock_reads: list[AfterLockRead] = []


def register_after_lock_read(column, wanted: Callable[[AwardTx, int], bool],
                             take: Callable[[AwardTx, int, object], None]) -> None:
    """Fold a read into the award's post-lock cap statement on PostgreSQL (once, at import time).

    Args:
        column: a labelled scalar subquery binding ``learner_id`` (and optionally ``week``).
        wanted: ``wanted(tx, learner_id)`` — True while the answer is not known in the transaction.
        take: ``take(tx, learner_id, value)`` — stores the answer. The read runs after the learner's
            row lock, in the award's transaction, only when the award has a cap count to read.
    """
    label = getattr(column, "name", None)
    if all(getattr(r.column, "name", None) != label for r in _after_lock_reads):
        _after_lock_reads.append(AfterLockRead(column, wanted, take))
        _combined.cache_clear()


@lru_cache(maxsize=64)
def _combined(kinds: tuple[str, ...], reads: tuple[int, ...]):
    """``SELECT (count …) AS day, (count …) AS week, (count …) AS ever, <after-lock reads>`` in one statement
    (a :class:`DriverStatement`: executed on the driver's cursor, one row)."""
    cols = [_COUNT_UNCAPPED.where(_ledger.local_date == bindparam("cap_day")) if kind == "day"
            else _COUNT_UNCAPPED.where(_ledger.week == bindparam("cap_week")) if kind == "week"
            else _COUNT_UNCAPPED for kind in kinds]
    cols = [q.scalar_subquery().label(f"cap_{kind}") for q, kind in zip(cols, kinds, strict=True)]
    return DriverStatement(select(*cols, *(_after_lock_reads[i].column for i in reads)))


def read_after_lock(tx: AwardTx, rule: RuleSnapshot, learner_id: int, day, week) -> None:
    """Read a PostgreSQL award's unknown cap counts and the registered after-lock reads in one statement.

    Called after the learner's row lock (so the counts are exact under concurrency); does nothing on
    SQLite (counts folded into the lock) or when every count of ``rule`` is already known.
    """
    if tx.sqlite:
        return
    counts = tx.caps.setdefault((learner_id, rule.activity_type), CapCounts())
    kinds = tuple(kind for kind in _cap_kinds(rule)
                  if (counts.ever if kind == "ever" else (counts.days if kind == "day" else counts.weeks).get(
                      day if kind == "day" else week, 0 if counts.complete else None)) is None)
    if not kinds:
        return
    reads = tuple(i for i, r in enumerate(_after_lock_reads) if r.wanted(tx, learner_id))
    tx.flush()
    row = _combined(kinds, reads).execute_one(tx.connection(), {
        "learner_id": learner_id, "activity_type": rule.activity_type, "cap_day": day, "cap_week": week,
        "week": week})
    for kind, n in zip(kinds, row, strict=False):
        if kind == "ever":
            counts.ever = n or 0
        elif kind == "day":
            counts.days[day] = n or 0
        else:
            counts.weeks[week] = n or 0
    for i, value in zip(reads, row[len(kinds):], strict=True):
        _after_lock_reads[i].take(tx, learner_id, value)


def _cap_kinds(rule: RuleSnapshot) -> tuple[str, ...]:
    return tuple(kind for kind, limit in (("day", rule.max_per_day), ("week", rule.max_per_week),
                                          ("ever", rule.max_ever)) if limit is not None)


def _is_capped(tx: AwardTx, rule: RuleSnapshot, learner_id: int, day, week) -> bool:
    """Whether an award of ``rule`` for the learner on ``day``/``week`` is over a cap (§4.2).

    Counts come from the transaction's in-memory :class:`CapCounts` (read once, kept up to date);
    a count not known yet is read after writing the queued entries.
    """
    counts = tx.caps.setdefault((learner_id, rule.activity_type), CapCounts())
    for kind, limit in (("day", rule.max_per_day), ("week", rule.max_per_week), ("ever", rule.max_ever)):
        if limit is None:
            continue
        if kind == "ever":
            n = counts.ever
        else:
            known = counts.days if kind == "day" else counts.weeks
            key = day if kind == "day" else week
            n = known.get(key, 0 if counts.complete else None)
        if n is None:
            tx.flush()
            params = {"learner_id": learner_id, "activity_type": rule.activity_type}
            if kind != "ever":
                params["value"] = day if kind == "day" else week
            n = tx.connection().execute(_COUNT_BY[kind], params).scalar() or 0
            if kind == "ever":
                counts.ever = n
            elif kind == "day":
                counts.days[day] = n
            else:
                counts.weeks[week] = n
        if n >= limit:
            return True
    return False
