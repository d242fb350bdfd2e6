"""The circle goal (§6.1): the award hook that moves membership points and marks goals,
and the explicit settlement that pays every contributor once."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Circle, CircleMembership, Learner, LedgerEntry
from thrive.models.circle_week import CircleWeek
from thrive.services.errors import ThriveError, ValidationError, validate_week
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardContext, award, register_award_hook
from thrive.services.points.driver_sql import DriverStatement
from thrive.services.points.hooks import holds_shared_lock, register_shared_lock
from thrive.services.points.locks import award_tx
from thrive.timeutil import as_utc, platform_week, utcnow

from .assignment import _lock_key, _place_learner, _week_bounds
from .settings import GOAL_ACTIVITY, circle_settings

log = logging.getLogger(__name__)

# ------------------------------------------------------------ award hook ---

def _circle_hook_applies(_tx, entry) -> bool:
    """The hook changes something only for points in the current week, or a circle-goal bonus (its notice)."""
    if entry.points <= 0:
        return False
    if entry.activity_type == GOAL_ACTIVITY:
        return True
    if entry.capped:
        return False
    return entry.week == _current_week(_tx)


@lru_cache(maxsize=8)
def _week_key(week: str) -> int:
    """The advisory lock key of a week's circle assignment (held exclusive by it, shared by awards)."""
    return _lock_key(f"week:{week}")


def _current_week(tx) -> str:
    """The platform ISO week of the clock, once per award transaction."""
    week = tx.memo.get("circles.current_week")
    if week is None:
        week = tx.memo["circles.current_week"] = platform_week(utcnow())
    return week


@register_shared_lock
def _week_lock_for_award(tx, _activity_type: str, week: str) -> int | None:
    """PostgreSQL: the award's locking statement takes the week's assignment lock shared when the hook may
    need it (an award into the current week), so the hook's after-lock statement is a single one."""
    return _week_key(week) if week == _current_week(tx) else None


@register_award_hook(applies=_circle_hook_applies)
def _circle_award_hook(ctx: AwardContext) -> None:
    """Inside every award: membership points, mid-week joiners, circle goal marking (§6.1)."""
    entry = ctx.entry
    if entry.activity_type == GOAL_ACTIVITY and entry.points > 0:
        _goal_award_notice(ctx)
    if entry.points <= 0 or entry.capped:
        return
    week = entry.week
    session = ctx.session
    tx = award_tx(session)
    if week != _current_week(tx):
        return  # a back-dated award into a closed week: that week's history is final
    params = {"b_learner_id": ctx.learner_id, "b_week": week, "b_points": entry.points}
    if not tx.sqlite and holds_shared_lock(tx, _week_key(week)):
        # The award's locking statement took the week lock shared (a running assignment finished first): this
        # statement's snapshot follows it, so one round trip adds the points and, for a non-member, tells
        # whether the week has been assigned.
        circle_id, points, assigned = _PG_ADD_POINTS_OR_ASSIGNED.execute_one(tx.connection(), params)
        if circle_id is not None:
            _check_goal(session, circle_id, new_contributor=points - entry.points <= 0)
        elif assigned:
            _join_mid_week(ctx, week)
        return
    if not tx.sqlite:
        # A member (the common case): add the points and learn the circle in one statement; not a member:
        # the same statement waits for a running assignment of this week (it may be placing this learner).
        # On the connection (no ORM flush): no object an earlier hook may leave pending lives in these tables.
        added = session.connection().execute(_PG_ADD_POINTS_OR_LOCK,
                                             {**params, "k": _week_key(week)}).one()
        if added.circle_id is not None:
            _check_goal(session, added.circle_id, new_contributor=added.points - entry.points <= 0)
            return
    else:  # SQLite: writers are serialised already, no lock to take
        added = session.connection().execute(_ADD_POINTS, params).first()
        if added is not None:
            _check_goal(session, added.circle_id, new_contributor=added.points - entry.points <= 0)
            return
    # Not a member, the lock held: read after it (a statement of its own, so it sees a finished assignment) …
    assigned, *found = _membership_after_lock(session, ctx.learner_id, week)
    row = found if found[0] is not None else None
    # … and only join mid-week once the week has been assigned (a catch-up run places everyone else).
    if row is None:
        if assigned:
            _join_mid_week(ctx, week)
        return
    membership_id, circle_id, old_points = row
    session.execute(update(CircleMembership).where(CircleMembership.id == membership_id)
                    .values(points=CircleMembership.points + entry.points))
    _check_goal(session, circle_id, new_contributor=old_points <= 0)


def _join_mid_week(ctx: AwardContext, week: str) -> None:
    """Place an eligible non-member in a circle of the assigned ``week`` (the week lock held shared)."""
    session = ctx.session
    active, is_learner, prefs = session.execute(
        select(Learner.is_active_account, Learner.is_learner, Learner.notification_prefs)
        .where(Learner.id == ctx.learner_id)
    ).one()
    if not active or not is_learner:
        return
    try:
        settings = circle_settings()
    except ValidationError:
        log.exception("circle settings are invalid; learner %s not placed mid-week", ctx.learner_id)
        return  # a configuration mistake must not make awards fail
    state = ctx.state
    points = state.weekly_points if state.weekly_week == week else ctx.entry.points
    circle_id = _place_learner(session, ctx.learner_id, state.tier_key, week, points, utcnow(),
                               settings, ctx.registry, prefs)
    _check_goal(session, circle_id, new_contributor=points > 0)


_cm = CircleMembership.__table__.c
#: Prebuilt Core statements of the award hook (no per-award statement building or ORM compile).
_ADD_POINTS = (update(CircleMembership.__table__)
               .where(_cm.learner_id == bindparam("b_learner_id"), _cm.week == bindparam("b_week"))
               .values(points=_cm.points + bindparam("b_points"))
               .returning(_cm.circle_id, _cm.points))
#: PostgreSQL: :data:`_ADD_POINTS`, and when it updated no row, the week's shared advisory lock (``:k``), in one
#: round trip. Always one row: (circle_id, points) of the membership, or NULLs once the lock is held. A data-modifying
#: CTE runs to completion whatever the outer query reads; the lock is in the outer target list, so it is taken
#: exactly when no membership was updated. The membership read that follows is a statement of its own: its
#: snapshot is taken after the lock, so it sees an assignment that finished while this one waited.
_PG_ADD_POINTS_OR_LOCK = text(
    "WITH added AS (UPDATE circle_memberships SET points = circle_memberships.points + :b_points"
    " WHERE circle_memberships.learner_id = :b_learner_id AND circle_memberships.week = :b_week"
    " RETURNING circle_memberships.circle_id, circle_memberships.points)"
    " SELECT added.circle_id, added.points,"
    " CASE WHEN added.circle_id IS NULL THEN pg_advisory_xact_lock_shared(:k)::text END AS locked"
    " FROM (SELECT 1) AS one LEFT JOIN added ON true"
).columns(column("circle_id", Integer), column("points", Integer), column("locked", String))
#: PostgreSQL, the week lock already held (taken by the award's locking statement): :data:`_ADD_POINTS` and whether
#: the week has been assigned, in one round trip. Always one row: (circle_id, points) of the membership or NULLs,
#: and ``assigned`` (read only for a non-member). Its snapshot is taken after the lock, so it sees a finished
#: assignment's memberships and marker.
_PG_ADD_POINTS_OR_ASSIGNED = DriverStatement(text(
    "WITH added AS (UPDATE circle_memberships SET points = circle_memberships.points + :b_points"
    " WHERE circle_memberships.learner_id = :b_learner_id AND circle_memberships.week = :b_week"
    " RETURNING circle_memberships.circle_id, circle_memberships.points)"
    " SELECT added.circle_id, added.points,"
    " added.circle_id IS NULL AND EXISTS (SELECT 1 FROM circle_weeks WHERE circle_weeks.week = :b_week)"
    " AS assigned FROM (SELECT 1) AS one LEFT JOIN added ON true"
).columns(column("circle_id", Integer), column("points", Integer), column("assigned", Boolean)))
_marker = select(select(CircleWeek.__table__.c.week).where(CircleWeek.__table__.c.week == bindparam("week"))
                 .exists().label("assigned")).subquery()
_MEMBERSHIP_AFTER_LOCK = select(_marker.c.assigned, _cm.id, _cm.circle_id, _cm.points).select_from(
    _marker.outerjoin(CircleMembership.__table__,
                      and_(_cm.learner_id == bindparam("learner_id"), _cm.week == bindparam("week"))))


def _membership_after_lock(session: Session, learner_id: int, week: str):
    """(week assigned?, membership id, circle id, points) in one statement; the membership fields None if absent."""
    return session.connection().execute(_MEMBERSHIP_AFTER_LOCK, {"learner_id": learner_id, "week": week}).one()


def _check_goal(session: Session, circle_id: int, *, new_contributor: bool) -> None:
    """Mark the circle's goal reached once (row lock + conditional UPDATE); queue settling."""
    circle = session.execute(
        select(Circle.goal_target, Circle.goal_completed_at).where(Circle.id == circle_id).with_for_update()
    ).one()
    if circle.goal_completed_at is not None:
        if new_contributor:
            _queue_settle(session, circle_id)  # joined the effort after the goal was reached
        return
    total = session.scalar(select(func.coalesce(func.sum(CircleMembership.points), 0))
                           .where(CircleMembership.circle_id == circle_id))
    if circle.goal_target > 0 and total >= circle.goal_target:
        done = session.execute(update(Circle).where(Circle.id == circle_id, Circle.goal_completed_at.is_(None))
                               .values(goal_completed_at=utcnow()))
        if done.rowcount:
            _queue_settle(session, circle_id)


def _goal_award_notice(ctx: AwardContext) -> None:
    """The notification and celebration of a ``circle_goal_completed`` award, in its transaction (§9)."""
    meta = ctx.entry.meta or {}
    circle_id = meta.get("circle_id")
    if circle_id is None:
        return
    name = meta.get("circle_name") or "Your Thrive Circle"
    key = f"circle_goal:{circle_id}:{ctx.learner_id}"
    title = f"{name} reached its circle goal together! 🎉"
    body = f"Everyone's showing up paid off: +{ctx.entry.points} points for taking part."
    data = {"circle_id": circle_id, "week": meta.get("week"), "points": ctx.entry.points}
    prefs = ctx.session.scalar(select(Learner.notification_prefs).where(Learner.id == ctx.learner_id))
    notifications.notify(ctx.session, ctx.learner_id, "circle_goal_completed", title, prefs=prefs, body=body,
                         link="/", data=data, dedupe_key=key)
    notifications.celebrate(ctx.session, ctx.learner_id, "circle_goal", title, body=body, data=data,
                            dedupe_key=key)


# ------------------------------------------------- settling circle goals ---

#: ``Session.info`` key under which the award hook collects circles whose goal the open transaction reached.
DUE_GOALS_KEY = "thrive.circles.due_goals"


def _queue_settle(session: Session, circle_id: int) -> None:
    session.info.setdefault(DUE_GOALS_KEY, set()).add(circle_id)


def take_due_goals(session: Session) -> list[int]:
    """Circle ids whose goal the current transaction on ``session`` reached (or newly contributed to), and forget them.

    Called by the code path that commits awards (``award()``, ``award_many()``) inside its transaction;
    after the commit it passes them to :func:`settle_due_goals`. On a rollback they are simply dropped.
    """
    return sorted(session.info.pop(DUE_GOALS_KEY, ()))


def settle_due_goals(circle_ids: list[int]) -> dict:
    """Pay the contributors of ``circle_ids`` once their goal-reaching transaction has committed (§6.1).

    This is the explicit settlement step of every award path — service, batch, job, CLI — independent of
    any web blueprint. Returns the :func:`settle_circle_goals` counts (zeros for an empty list). A failure
    is logged and left to the hourly catch-up (``settle_circle_goals`` by week), so an award that already
    committed never reports an error because of it.
    """
    if not circle_ids:
        return {"circles": 0, "marked": 0, "awarded": 0, "points": 0}
    try:
        return settle_circle_goals(circle_ids=circle_ids)
    except Exception:  # noqa: BLE001 — the award committed; the hourly job settles what is left
        log.exception("settling circle goals %s failed; the hourly job will catch up", circle_ids)
        return {"circles": 0, "marked": 0, "awarded": 0, "points": 0}


def settle_circle_goals(week: str | None = None, *, circle_ids: Iterable[int] | None = None,
                        now: datetime | None = None) -> dict:
    """Award ``circle_goal_completed`` to every contributing member of circles whose goal was reached (§6.1).

    Args:
        week: platform ISO week to settle (default: the current one) when
            ``circle_ids`` is not given; circles of that week whose members'
            points reached the target but are not yet marked are marked first
            (catch-up for the scheduler and CLI).
        circle_ids: settle exactly these circles (post-commit path).
        now: current UTC instant; defaults to the clock.

    A contributor is a member with points > 0 that week. Each gets
    ``THRIVE_CIRCLE_GOAL_BONUS`` points through ``award()`` with event key
    ``circle_goal:<circle id>:<learner id>``, dated when the goal was reached
    — so it happens exactly once, whoever settles first; the award hook adds
    the notification and celebration in the same transaction.

    Returns ``{"circles", "marked", "awarded", "points"}``. Raises
    ValidationError for a malformed week. One member's failure is logged
    and does not stop the others (a later settle retries).
    """
    now = as_utc(now) if now else utcnow()
    settings = circle_settings()
    marked: list[int] = []
    if circle_ids is None:
        week = validate_week(week or platform_week(now))
        with write_transaction() as session:
            marked = _mark_reached_goals(session, week, now)
        where = [Circle.week == week]
    else:
        ids = list(circle_ids)
        if not ids:
            return {"circles": 0, "marked": 0, "awarded": 0, "points": 0}
        where = [Circle.id.in_(ids)]
    cm = CircleMembership
    key = literal("circle_goal:") + cast(Circle.id, String) + literal(":") + cast(cm.learner_id, String)
    todo = db.session.execute(
        select(cm.learner_id, Circle.id, Circle.name, Circle.week, Circle.goal_completed_at)
        .join(Circle, Circle.id == cm.circle_id)
        .where(*where, Circle.goal_completed_at.is_not(None), cm.points > 0)
        .where(~exists().where(LedgerEntry.event_key == key))
        .order_by(Circle.id, cm.learner_id)
    ).all()
    circles = db.session.scalar(select(func.count(Circle.id)).where(*where, Circle.goal_completed_at.is_not(None)))
    db.session.commit()
    awarded = points = 0
    for learner_id, circle_id, name, circle_week, completed_at in todo:
        try:
            result = award(
                learner_id, GOAL_ACTIVITY, event_key=f"circle_goal:{circle_id}:{learner_id}",
                occurred_at=as_utc(completed_at), points=settings.goal_bonus,
                metadata={"circle_id": circle_id, "circle_name": name, "week": circle_week},
                description=f"{name} reached its weekly circle goal", now=max(now, as_utc(completed_at)),
            )
        except ThriveError as exc:
            log.warning("circle goal bonus for learner %s in circle %s failed: %s", learner_id, circle_id, exc)
            continue
        if not result.duplicate:
            awarded += 1
            points += result.points_awarded
    return {"circles": circles or 0, "marked": len(marked), "awarded": awarded, "points": points}


def _mark_reached_goals(session: Session, week: str, now: datetime) -> list[int]:
    """Mark circles of ``week`` whose members' points reached the target (returns their ids)."""
    cm = CircleMembership
    reached = session.scalars(
        select(Circle.id).join(cm, cm.circle_id == Circle.id)
        .where(Circle.week == week, Circle.goal_completed_at.is_(None), Circle.goal_target > 0)
        .group_by(Circle.id, Circle.goal_target)
        .having(func.sum(cm.points) >= Circle.goal_target)
    ).all()
    _, end = _week_bounds(week)
    at = min(now, end - timedelta(microseconds=1))
    marked = []
    for circle_id in reached:
        done = session.execute(update(Circle).where(Circle.id == circle_id, Circle.goal_completed_at.is_(None))
                               .values(goal_completed_at=at))
        if done.rowcount:
            marked.append(circle_id)
    return marked

