"""Helpers for the economy admin tests (rules, ladder, goal templates, moderation, configuration)."""
from __future__ import annotations

from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import Learner


def staff(make_learner, username: str = "boss", role: str = "admin") -> Learner:
    """A staff account (committed) with ``role`` (``admin`` or ``moderator``); not a learner."""
    learner = make_learner(username, staff_role=role)
    return db.session.get(Learner, learner.id)


def audit_count(action: str | None = None) -> int:
    """How many audit entries exist (with ``action``)."""
    from thrive.models import AuditEntry

    db.session.commit()
    q = select(func.count(AuditEntry.id))
    if action:
        q = q.where(AuditEntry.action == action)
    return db.session.scalar(q) or 0


def audit_actions() -> list[str]:
    from thrive.models import AuditEntry

    db.session.commit()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
