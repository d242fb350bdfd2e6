"""Offset pagination shared by every paged list (notifications, journey ledger, followers/following).

One rule everywhere: pages are 1-based, a page below 1 or beyond 1,000,000 or a page size outside
1–``max_per_page`` is a :class:`~thrive.services.errors.ValidationError` (code ``invalid_page``), and
"is there a next page" is answered by fetching one row more than the page holds (no COUNT query).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from thrive.extensions import db
from thrive.services.errors import ValidationError

#: Highest page number accepted (keeps OFFSET bounded and integers far below 64 bits).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class OffsetPage:
    """One page of rows: ``rows`` (at most ``per_page``), its 1-based ``page`` and whether a next one exists."""

    rows: Sequence[Any]
    page: int
    per_page: int
    has_next: bool


def check_page(page: int, per_page: int, *, max_per_page: int = 100) -> None:
    """Validate a 1-based page number and page size; raises ValidationError (``invalid_page``)."""
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise ValidationError(f"page must be between 1 and {MAX_PAGE:,}", code="invalid_page")
    if not isinstance(per_page, int) or not 1 <= per_page <= max_per_page:
        raise ValidationError(f"per_page must be between 1 and {max_per_page}", code="invalid_page")


def fetch_page(stmt: Select, page: int, per_page: int, *, scalars: bool = False,
               max_per_page: int = 100) -> OffsetPage:
    """Run ``stmt`` (already ordered, deterministically) for page ``page`` of ``per_page`` rows.

    ``scalars=True`` returns the first column of each row (e.g. ORM objects). Raises ValidationError for a
    bad page or page size (see :func:`check_page`).
    """
    check_page(page, per_page, max_per_page=max_per_page)
    paged = stmt.offset((page - 1) * per_page).limit(per_page + 1)
    result = db.session.scalars(paged) if scalars else db.session.execute(paged)
    rows = list(result.all())
    return OffsetPage(rows=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)
