"""The audit log (§11): every staff action appends exactly one :class:`AuditEntry`.

Call :func:`record` INSIDE the transaction that performs the staff action
(``with write_transaction() as session: ...; record(...)``), so the action and
its entry are committed — or rolled back — together.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import AuditEntry, Learner
from thrive.timeutil import as_utc, utcnow


def _jsonable(value: Any) -> Any:
    """``value`` made JSON-serialisable (dates/instants as ISO 8601 text, sets as sorted lists)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    return str(value)


def record(actor: Learner, action: str, target_type: str | None = None, target_id: Any = None,
           before: Any = None, after: Any = None, *, session=None) -> AuditEntry:
    """Append one audit entry for ``actor``'s ``action`` (no commit: the caller's transaction owns it).

    ``actor`` is the staff member (a :class:`Learner` row); ``action`` a dotted
    verb such as ``"learner.adjust_points"``; ``target_type``/``target_id`` name
    the object (the id is stored as text); ``before``/``after`` are snapshots
    (dicts/lists of plain values; dates and instants become ISO text). Returns
    the pending entry (flushed, so it has an id).
    """
    session = session or db.session
    entry = AuditEntry(
        actor_id=actor.id, actor_username=actor.username, at=utcnow(), action=action,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        before=_jsonable(before), after=_jsonable(after),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Filters for the audit page: actor username (exact, case-insensitive), action (prefix),
    and a local-date range interpreted as UTC days (``since`` inclusive, ``until`` inclusive)."""

    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def _filtered(flt: AuditFilter):
    query = select(AuditEntry)
    if flt.actor:
        query = query.where(func.lower(AuditEntry.actor_username) == flt.actor.strip().lower())
    if flt.action:
        query = query.where(AuditEntry.action.startswith(flt.action.strip(), autoescape=True))
    if flt.since:
        query = query.where(AuditEntry.at >= datetime.combine(flt.since, time.min).replace(tzinfo=utcnow().tzinfo))
    if flt.until:
        end = datetime.combine(flt.until + timedelta(days=1), time.min).replace(tzinfo=utcnow().tzinfo)
        query = query.where(AuditEntry.at < end)
    return query


def page(flt: AuditFilter, page_number: int = 1, per_page: int = 50):
    """A Flask-SQLAlchemy pagination of entries matching ``flt``, newest first."""
    query = _filtered(flt).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return db.paginate(query, page=page_number, per_page=per_page, error_out=False, max_per_page=200)


def actions() -> list[str]:
    """The distinct actions recorded so far (for the filter's choices), sorted."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


CSV_COLUMNS = ("id", "at", "actor_id", "actor_username", "action", "target_type", "target_id", "before", "after")


def export_csv(flt: AuditFilter) -> str:
    """All entries matching ``flt`` as CSV text (oldest first; before/after as JSON text)."""
    import json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = _filtered(flt).order_by(AuditEntry.at, AuditEntry.id)
    for e in db.session.scalars(query).yield_per(1000):
        writer.writerow([e.id, as_utc(e.at).isoformat(), e.actor_id or "", e.actor_username, e.action,
                         e.target_type or "", e.target_id or "",
                         "" if e.before is None else json.dumps(e.before, sort_keys=True),
                         "" if e.after is None else json.dumps(e.after, sort_keys=True)])
    return out.getvalue()
