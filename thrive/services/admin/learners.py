"""Learner support for staff (§11): search, a learner's page, adjustments, status and staff roles.

Every change is one staff action with one audit entry written in the same
transaction. Point adjustments go through ``award()`` (§4.1) with activity
type ``admin_adjustment``; the audit entry and the optional notification are
added by an award hook inside the award's own transaction.
"""
from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import (
    Circle,
    CircleMembership,
    Learner,
    LedgerDuplicate,
    LedgerEntry,
    WeeklyGoal,
)
from thrive.models.learner import STAFF_ROLES
from thrive.services.admin.audit import record
from thrive.services.errors import NotFound, ValidationError
from thrive.services.notifications.sending import notify
from thrive.services.points.award import AwardContext, AwardResult, award, register_award_hook
from thrive.services.points.registry import load_registry

ADJUSTMENT = "admin_adjustment"
MAX_REASON = 500
SEARCH_LIMIT = 50


# ------------------------------------------------------------------ search

def search(query: str, limit: int = SEARCH_LIMIT) -> list[Learner]:
    """Accounts whose username, display name, email or external id contains ``query`` (case-insensitive).

    An exact username / external id match comes first; then by username. An
    empty query returns the most recently created accounts. At most ``limit`` rows.
    """
    q = (query or "").strip()
    stmt = select(Learner)
    if q:
        like = f"%{_escape_like(q.lower())}%"
        stmt = stmt.where(or_(
            func.lower(Learner.username).like(like, escape="\\"),
            func.lower(Learner.display_name).like(like, escape="\\"),
            func.lower(Learner.email).like(like, escape="\\"),
            func.lower(Learner.external_id).like(like, escape="\\"),
        ))
        exact = or_(func.lower(Learner.username) == q.lower(), Learner.external_id == q)
        stmt = stmt.order_by(exact.desc(), Learner.username)
    else:
        stmt = stmt.order_by(Learner.created_at.desc(), Learner.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_learner(learner_id: int) -> Learner:
    """The account ``learner_id``; raises ``NotFound``."""
    row = db.session.get(Learner, learner_id)
    if row is None:
        raise NotFound(f"no learner {learner_id}")
    return row


# ------------------------------------------------------------------ the learner page

@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry with what explains it (§4.4): ``notes`` is a list of (code, data) pairs.

    Codes: ``capped`` (data: the rule's caps ``{"max_per_day", "max_per_week", "max_ever"}``),
    ``adjusted_by`` (data: ``{"by": username}``), ``priced_by`` (data: ``{"version": n}``
    when the ledger records the rule version that priced it).
    """

    entry: LedgerEntry
    notes: list[tuple[str, dict]]


@dataclass(frozen=True)
class CircleStay:
    week: str
    circle_id: int
    name: str
    tier_key: str
    points: int


def _explain(entry: LedgerEntry, rules, duplicates: dict[int, tuple] | None = None) -> list[tuple[str, dict]]:
    """Why an entry looks as it does: ``(code, data)`` pairs worded by the admin template.

    Codes: ``priced_by`` {version}, ``capped`` {max_per_day/max_per_week/max_ever: limit},
    ``adjusted_by`` {by}, ``duplicates`` {count, last_at (UTC)} — later submissions of the
    entry's event key answered as duplicates (§4.3).
    """
    notes: list[tuple[str, dict]] = []
    version = getattr(entry, "rule_version", None)
    if version is not None:
        notes.append(("priced_by", {"version": version}))
    if entry.capped:
        rule = rules.get(entry.activity_type)
        caps = {k: getattr(rule, k) for k in ("max_per_day", "max_per_week", "max_ever")} if rule else {}
        notes.append(("capped", {k: v for k, v in caps.items() if v is not None}))
    meta = entry.meta or {}
    if entry.activity_type == ADJUSTMENT and meta.get("by_username"):
        notes.append(("adjusted_by", {"by": meta["by_username"]}))
    if duplicates and entry.id in duplicates:
        count, last_at = duplicates[entry.id]
        notes.append(("duplicates", {"count": count, "last_at": last_at}))
    return notes


def ledger_page(learner_id: int, page_number: int = 1, per_page: int = 50):
    """(pagination of :class:`LedgerEntry` newest first, list of :class:`LedgerLine` for that page)."""
    page = db.paginate(select(LedgerEntry).where(LedgerEntry.learner_id == learner_id)
                       .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc()),
                       page=page_number, per_page=per_page, error_out=False)
    rules = load_registry().rules
    ids = [e.id for e in page.items]
    duplicates = {row.ledger_entry_id: (row.count, row.last_at) for row in db.session.execute(
        select(LedgerDuplicate).where(LedgerDuplicate.ledger_entry_id.in_(ids))).scalars()} if ids else {}
    return page, [LedgerLine(e, _explain(e, rules, duplicates)) for e in page.items]


def circle_history(learner_id: int, limit: int = 26) -> list[CircleStay]:
    """The learner's circles, newest week first (at most ``limit``)."""
    rows = db.session.execute(
        select(CircleMembership.week, Circle.id, Circle.name, Circle.tier_key, CircleMembership.points)
        .join(Circle, Circle.id == CircleMembership.circle_id)
        .where(CircleMembership.learner_id == learner_id)
        .order_by(CircleMembership.week.desc()).limit(limit)
    ).all()
    return [CircleStay(*r) for r in rows]


def goals(learner_id: int, limit: int = 20) -> list[WeeklyGoal]:
    """The learner's weekly goals, newest week first."""
    return list(db.session.scalars(
        select(WeeklyGoal).where(WeeklyGoal.learner_id == learner_id)
        .order_by(WeeklyGoal.week.desc(), WeeklyGoal.id).limit(limit)))


# ------------------------------------------------------------------ adjustments

@dataclass(frozen=True)
class _Pending:
    actor_id: int
    actor_username: str
    event_key: str
    reason: str
    message: str | None


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar("thrive_admin_adjustment", default=None)


def new_adjustment_key() -> str:
    """A fresh event key for one adjustment form (rendered into the form: a resubmission is a duplicate)."""
    return f"{ADJUSTMENT}:{uuid.uuid4().hex}"


def adjust_points(actor: Learner, learner_id: int, points: int, reason: str, *, message: str | None = None,
                  event_key: str | None = None) -> AwardResult:
    """Add (or, negative, remove) ``points`` for learner ``learner_id`` through ``award()`` (§4.1, §11).

    ``reason`` (required, ≤ 500 characters) becomes the ledger entry's
    description; ``message`` (optional) is sent to the learner as a
    ``points_adjusted`` notification. ``event_key`` (default a fresh one)
    makes a resubmitted form a duplicate that changes nothing. The ledger
    entry, the audit entry and the notification are written in one
    transaction. Tiers and levels never drop (§1.2). Raises ``ValidationError``
    (no reason, 0 points, a staff account that is not a learner),
    ``NotFound``, ``PointsOutOfRange``.
    """
    reason = (reason or "").strip()
    message = (message or "").strip() or None
    if not reason:
        raise ValidationError("a reason is required", code="reason_required")
    if len(reason) > MAX_REASON or (message and len(message) > MAX_REASON):
        raise ValidationError(f"reason and message are at most {MAX_REASON} characters")
    if not isinstance(points, int) or points == 0:
        raise ValidationError("points must be a non-zero whole number", code="invalid_points")
    target = get_learner(learner_id)
    if not target.is_learner:
        raise ValidationError("staff accounts that are not learners have no points", code="not_a_learner")
    key = event_key or new_adjustment_key()
    if not key.startswith(f"{ADJUSTMENT}:") or len(key) > 255:
        raise ValidationError("malformed adjustment key")
    token = _pending.set(_Pending(actor.id, actor.username, key, reason, message))
    try:
        return award(learner_id, ADJUSTMENT, event_key=key, points=points, description=reason,
                     metadata={"by": actor.id, "by_username": actor.username})
    finally:
        _pending.reset(token)


def _adjustment_applies(_tx, entry) -> bool:
    """Only the adjustment this context is making (skipped for every other award, §15)."""
    pending = _pending.get()
    return pending is not None and entry.activity_type == ADJUSTMENT and entry.event_key == pending.event_key


@register_award_hook(applies=_adjustment_applies)
def _adjustment_hook(ctx: AwardContext) -> None:
    """Inside the adjustment's award transaction: its audit entry and the optional notification."""
    pending = _pending.get()
    if pending is None or ctx.entry.activity_type != ADJUSTMENT or ctx.entry.event_key != pending.event_key:
        return
    actor = _ActorRef(pending.actor_id, pending.actor_username)
    record(actor, "learner.adjust_points", "learner", ctx.learner_id, None,
           {"points": ctx.entry.points, "reason": pending.reason, "message": pending.message,
            "event_key": ctx.entry.event_key, "ledger_entry_id": ctx.entry.id,
            "total_points": ctx.state.total_points}, session=ctx.session)
    if pending.message:
        prefs = ctx.session.scalar(select(Learner.notification_prefs).where(Learner.id == ctx.learner_id))
        notify(ctx.session, ctx.learner_id, "points_adjusted", pending.message, prefs=prefs,
               data={"points": ctx.entry.points}, link="/journey", dedupe_key=f"adjusted:{ctx.entry.event_key}")


@dataclass(frozen=True)
class _ActorRef:
    id: int
    username: str


# ------------------------------------------------------------------ status and roles

def _account_snapshot(row: Learner) -> dict[str, Any]:
    return {"is_active_account": row.is_active_account, "staff_role": row.staff_role, "is_learner": row.is_learner}


def set_active(actor: Learner, learner_id: int, active: bool) -> Learner:
    """Deactivate (``active=False``: cannot sign in, absent from community pages) or reactivate an account.

    Raises ``NotFound``; ``ValidationError`` when staff try to deactivate themselves.
    """
    with write_transaction() as session:
        row = session.get(Learner, learner_id)
        if row is None:
            raise NotFound(f"no learner {learner_id}")
        if row.id == actor.id and not active:
            raise ValidationError("you cannot deactivate your own account", code="self_deactivation")
        before = _account_snapshot(row)
        row.is_active_account = bool(active)
        session.flush()
        record(actor, "learner.reactivate" if active else "learner.deactivate", "learner", row.id, before,
               _account_snapshot(row))
    return row


def set_staff_role(actor: Learner, learner_id: int, role: str | None, is_learner: bool) -> Learner:
    """Grant or revoke a staff role (``"admin"``, ``"moderator"`` or None) and set whether the account
    takes part as a learner. A learner without a role is always a learner.

    Raises ``ValidationError`` for an unknown role or an admin removing their own admin role (so the
    area is never left without the one who is using it), ``NotFound``.
    """
    role = role or None
    if role is not None and role not in STAFF_ROLES:
        raise ValidationError(f"unknown staff role {role!r}", code="invalid_staff_role")
    with write_transaction() as session:
        row = session.get(Learner, learner_id)
        if row is None:
            raise NotFound(f"no learner {learner_id}")
        if row.id == actor.id and role != "admin":
            raise ValidationError("you cannot remove your own admin role", code="self_demotion")
        before = _account_snapshot(row)
        row.staff_role = role
        row.is_learner = True if role is None else bool(is_learner)
        session.flush()
        record(actor, "learner.staff_role", "learner", row.id, before, _account_snapshot(row))
    return row
