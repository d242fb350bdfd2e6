"""Caps of an award (§4.2): uncapped counts per learner and type, by local day, ISO week and ever.

Counts live in the transaction's :class:`~thrive.services.points.locks.CapCounts` (read once —
folded into the lock on SQLite, one grouped query per batch — and kept up to date in memory);
a count not known yet is read with one prebuilt statement.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from thrive.models import LedgerEntry
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
            n = tx.session.scalar(_COUNT_BY[kind], params) or 0
            if kind == "ever":
                counts.ever = n
            elif kind == "day":
                counts.days[day] = n
            else:
                counts.weeks[week] = n
        if n >= limit:
            return True
    return False
