"""A learner's notifications: list, unread count, mark read (§7, §9).

Creation lives in :mod:`thrive.services.notifications.sending` (inside the award
transaction, preference-aware); this module serves the learner pages. It hands
out stored rows only: the one wording of a notification — page, bell and data
export alike — is the web layer's (:mod:`thrive.web.notifications.text`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select, update

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Notification
from thrive.services.errors import NotFound
from thrive.services.paging import fetch_page
from thrive.timeutil import as_utc, utcnow

PER_PAGE = 20


@dataclass(frozen=True)
class NotificationPage:
    """One page of stored notifications, newest first. ``page`` starts at 1.

    ``items`` are ``Notification`` rows; the web layer words them at display time
    (``thrive.web.notifications.text``, names through the visibility rules, §8.4).
    """

    items: list[Notification]
    page: int
    per_page: int
    has_next: bool
    unread: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def unread_count(learner_id: int) -> int:
    """Number of the learner's unread notifications."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.learner_id == learner_id,
                                                  Notification.read_at.is_(None))
    ) or 0


def header_count_columns(learner_id):
    """``(unread notifications, a celebration is pending)`` as two columns for the learner ``learner_id``.

    ``learner_id`` is a bound parameter or a column (e.g. ``Learner.id``, so the session's
    learner and the header's counts come from one statement, issue 12).
    """
    from thrive.models import Celebration

    pending = select(Celebration.id).where(Celebration.learner_id == learner_id, Celebration.shown_at.is_(None))
    return (select(func.count(Notification.id)).where(Notification.learner_id == learner_id,
                                                      Notification.read_at.is_(None)).scalar_subquery(),
            pending.exists())


@cache
def _header_statement():
    """The statement of :func:`header_counts`, built once (bound parameter ``learner_id``)."""
    return select(*header_count_columns(bindparam("learner_id")))


def header_counts(learner_id: int) -> tuple[int, bool]:
    """``(unread notifications, whether a celebration is pending)`` for the page header (§7, §9) — one query."""
    unread, has_pending = db.session.execute(_header_statement(), {"learner_id": learner_id}).one()
    return int(unread or 0), bool(has_pending)


def list_notifications(learner_id: int, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """Page ``page`` (1-based) of the learner's notifications, newest first.

    Raises ``ValidationError`` for a page below 1 or a page size outside 1–100.
    """
    result = fetch_page(select(Notification)
                        .where(Notification.learner_id == learner_id)
                        .order_by(Notification.created_at.desc(), Notification.id.desc()),
                        page, per_page, scalars=True)
    # Raw rows: the web layer words them at display time, names through the visibility rules (§8.4, §9).
    return NotificationPage(items=list(result.rows), page=page, per_page=per_page,
                            has_next=result.has_next, unread=unread_count(learner_id))


def mark_read(learner_id: int, notification_id: int, now: datetime | None = None) -> bool:
    """Mark one of the learner's notifications read; True when it was unread.

    Raises ``NotFound`` when the notification does not exist or belongs to
    someone else (the two are indistinguishable on purpose).
    """
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        owner = session.scalar(select(Notification.learner_id).where(Notification.id == notification_id))
        if owner is None or owner != learner_id:
            raise NotFound("no such notification")
        result = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def mark_all_read(learner_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the learner read; returns how many changed."""
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.learner_id == learner_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount
