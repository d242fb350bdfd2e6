"""Creating in-app notifications and celebrations (§7, §9).

Creation happens inside the caller's transaction (e.g. ``award()``), honours
the learner's per-type preferences and is idempotent through ``dedupe_key``.
Listing and marking read live with the learner pages.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from thrive.models import Celebration, Notification
from thrive.models.community import NOTIFICATION_TYPES


def wants(prefs: dict | None, notification_type: str) -> bool:
    """True unless the learner switched ``notification_type`` off (missing = on)."""
    return bool((prefs or {}).get(notification_type, True))


def notify(
    session: Session,
    learner_id: int,
    notification_type: str,
    title: str,
    *,
    prefs: dict | None = None,
    body: str | None = None,
    link: str | None = None,
    data: dict | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notification in the current transaction; return it, or None when skipped.

    Skipped when the learner's ``prefs`` turn the type off or a notification
    with the same ``dedupe_key`` exists. Raises ``ValueError`` for a type not in §9.
    """
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    if not wants(prefs, notification_type):
        return None
    if dedupe_key and session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return None
    note = Notification(
        learner_id=learner_id, type=notification_type, title=title, body=body, link=link, data=data,
        dedupe_key=dedupe_key,
    )
    session.add(note)
    return note


def celebrate(
    session: Session,
    learner_id: int,
    kind: str,
    title: str,
    *,
    body: str | None = None,
    data: dict | None = None,
    dedupe_key: str | None = None,
) -> Celebration | None:
    """Queue a celebration (modal with confetti, shown once) in the current transaction."""
    if dedupe_key and session.scalar(select(Celebration.id).where(Celebration.dedupe_key == dedupe_key)):
        return None
    item = Celebration(learner_id=learner_id, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key)
    session.add(item)
    return item
