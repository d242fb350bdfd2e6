"""A learner's ledger history, paged (§4.4, §13): the read side of the integration API.

Plain functions over the session (no ``request``): the lean external-id
lookup (one indexed column, no eager loads) and keyset paging of a learner's
ledger with an opaque cursor. (Moved from ``web/api/reads.py``: views call services.)
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from thrive.extensions import db
from thrive.models import Learner, LedgerEntry
from thrive.services.errors import UnknownLearner, ValidationError
from thrive.timeutil import as_utc


def learner_id_for(external_id: str) -> int:
    """The id of the learner with ``external_id``; raises ``UnknownLearner`` (404)."""
    if "\x00" in external_id:  # no stored id holds NUL (and PostgreSQL text cannot)
        raise UnknownLearner("no learner with that external id")
    learner_id = db.session.scalar(select(Learner.id).where(Learner.external_id == external_id))
    if learner_id is None:
        raise UnknownLearner(f"no learner with external id {external_id!r}")
    return learner_id


@dataclass(frozen=True)
class LedgerPage:
    """Ledger entries newest first; ``next_cursor`` is None on the last page."""

    entries: list[LedgerEntry]
    next_cursor: str | None


def encode_cursor(entry: LedgerEntry) -> str:
    """An opaque cursor pointing just after ``entry`` in newest-first order."""
    raw = f"{as_utc(entry.occurred_at).isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(occurred_at UTC instant, ledger id) of a cursor; raises ``ValidationError`` (400 ``invalid_cursor``)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        instant, entry_id = raw.rsplit("|", 1)
        if not (entry_id.isascii() and entry_id.isdigit() and len(entry_id) <= 18):
            raise ValueError("cursor id out of range")
        return as_utc(datetime.fromisoformat(instant)), int(entry_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise ValidationError("cursor is not valid; use next_cursor from the previous page",
                              code="invalid_cursor") from exc


def ledger_page(learner_id: int, limit: int, cursor: str | None = None) -> LedgerPage:
    """One page of the learner's ledger, newest ``occurred_at`` first (ties: newest id first).

    Keyset paging over ``(occurred_at, id)`` (index ``ix_ledger_learner_occurred``),
    so pages stay stable and cheap however deep the client goes; entries
    appended meanwhile with older instants are still reached. ``limit`` is the
    page size (1–200, validated by the caller). Raises ``ValidationError`` for a bad cursor.
    """
    q = select(LedgerEntry).where(LedgerEntry.learner_id == learner_id)
    if cursor:
        at, entry_id = decode_cursor(cursor)
        q = q.where(or_(LedgerEntry.occurred_at < at,
                        and_(LedgerEntry.occurred_at == at, LedgerEntry.id < entry_id)))
    rows = list(db.session.scalars(
        q.order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc()).limit(limit + 1)
    ))
    more = len(rows) > limit
    rows = rows[:limit]
    return LedgerPage(rows, encode_cursor(rows[-1]) if more and rows else None)
