"""Weekly circle assignment (§6.1): the set-based bulk assignment, top-ups and mid-week joiners."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from thrive.db import dialect_insert, is_sqlite, write_transaction
from thrive.models import Circle, CircleMembership, Learner, LearnerState, Notification
from thrive.models.circle_week import CircleWeek
from thrive.services.errors import validate_week
from thrive.services.notifications import sending as notifications
from thrive.services.points.registry import Registry, load_registry
from thrive.timeutil import as_utc, shift_week, utcnow, week_start_instant

from .planning import _tier_to_group, circle_name, plan_groups
from .settings import BULK_WORK_MEM, ROOM_FACTOR, CircleSettings, assigned_dedupe_key, circle_settings
from .sizing import size_circle_goals

log = logging.getLogger(__name__)

# ------------------------------------------------------------- helpers ---

def _week_bounds(week: str) -> tuple[datetime, datetime]:
    return week_start_instant(week), week_start_instant(shift_week(week, 1))


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(f"thrive.circles:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_PG_LOCKS = {False: text("SELECT pg_advisory_xact_lock(:k)"), True: text("SELECT pg_advisory_xact_lock_shared(:k)")}


def _pg_lock(session: Session, name: str, *, shared: bool = False) -> None:
    """Transaction-level advisory lock on PostgreSQL (SQLite serialises writers already)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(_PG_LOCKS[shared], {"k": _lock_key(name)})


def _int(value: int) -> literal_column:
    """An integer constant inlined into SQL (integer division must stay integer on both databases)."""
    return literal_column(str(int(value)), Integer)


def _eligibility(week: str, settings: CircleSettings) -> list:
    start, end = _week_bounds(week)
    since = start - timedelta(days=settings.eligibility_days)
    # Staff are not learners unless flagged (§11): never placed in a circle.
    return [Learner.is_active_account.is_(True), Learner.is_learner.is_(True), LearnerState.last_award_at >= since,
            LearnerState.last_award_at < end]


def _wants_expr(notification_type: str):
    """SQL: the learner has not switched ``notification_type`` off (missing = on), like ``notifications.wants``."""
    return func.coalesce(Learner.notification_prefs[notification_type].as_boolean(), True).is_(True)


# ---------------------------------------------------------- assignment ---

def assign_circles(week: str, *, now: datetime | None = None) -> dict:
    """Place the week's eligible learners in Thrive Circles (§6.1); idempotent per week.

    Args:
        week: platform ISO week ``"YYYY-Www"``.
        now: current UTC instant (joined/created timestamps); defaults to the clock.

    Returns:
        ``{"week", "created", "learners", "circles", "notified", "goals_completed"}`` —
        ``created`` is True when this call did the week's bulk assignment,
        ``learners``/``circles`` count what *this call* placed/created
        (a re-run of an assigned week returns zeros unless a new eligible
        learner had no circle yet), ``notified`` the ``circle_assigned``
        notifications written.

    Raises:
        ValidationError (``invalid_week``) for a malformed week,
        (``invalid_config``) for bad circle settings. Nothing is half-written:
        the whole assignment is one transaction.
    """
    from .goal import _mark_reached_goals, settle_circle_goals  # goal imports this module

    week = validate_week(week)
    now = as_utc(now) if now else utcnow()
    settings = circle_settings()
    registry = load_registry()
    with write_transaction() as session:
        if not is_sqlite():
            # in-memory sorts for the window and the ordered inserts (this transaction only)
            session.execute(text(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'"))
        _pg_lock(session, f"week:{week}")
        assigned = session.scalar(select(CircleWeek.week).where(CircleWeek.week == week)) is not None
        has_circles = session.scalar(select(Circle.id).where(Circle.week == week).limit(1)) is not None
        if assigned or has_circles:
            result = _top_up(session, week, settings, registry, now)
            if not assigned:
                session.add(CircleWeek(week=week, assigned_at=now, learners=result["learners"],
                                       circles=result["circles"]))
        else:
            result = _bulk_assign(session, week, settings, registry, now)
            session.add(CircleWeek(week=week, assigned_at=now, learners=result["learners"],
                                   circles=result["circles"]))
        completed = _mark_reached_goals(session, week, now) if result.pop("has_points") else []
    if completed:  # points carried over by mid-week placement may already reach a goal: pay it now
        settle_circle_goals(circle_ids=completed, now=now)
    result.update(week=week, goals_completed=len(completed))
    return result


def _bulk_assign(session: Session, week: str, settings: CircleSettings, registry: Registry,
                 now: datetime) -> dict:
    """The set-based first assignment of a week (no circles exist for it yet)."""
    eligible = _eligibility(week, settings)
    ls = LearnerState
    in_week = and_(ls.weekly_week == week, ls.weekly_points > 0)
    rows = session.execute(
        select(ls.tier_key, func.count(), func.sum(case((in_week, 1), else_=0)))
        .join(Learner, Learner.id == ls.learner_id)
        .where(*eligible)
        .group_by(ls.tier_key)
    ).all()
    by_index = [0] * len(registry.tiers)
    has_points = False
    for tier_key, n, with_points in rows:
        by_index[max(registry.tier_index(tier_key), 0)] += n
        has_points = has_points or bool(with_points)
    plans = plan_groups([(t.key, by_index[i]) for i, t in enumerate(registry.tiers)],
                        settings.target_size, settings.min_size)
    if not plans:
        return {"created": True, "learners": 0, "circles": 0, "notified": 0, "has_points": False}

    circles = [
        dict(week=week, tier_key=plan.tier_key, name=circle_name(registry.tier(plan.tier_key).name, seq), seq=seq,
             goal_target=size * settings.goal_per_member, goal_completed_at=None, created_at=now)
        for plan in plans for seq, size in enumerate(plan.sizes)
    ]
    session.execute(insert(Circle.__table__), circles)
    if not is_sqlite():
        # Fresh statistics so the planner hash-joins memberships to this week's circles
        # (with stale ones it expects ~1 circle per week and picks a merge join + filter).
        session.execute(text("ANALYZE circles"))

    mapping = _tier_to_group(registry, plans)
    count_of = {plan.tier_key: len(plan.sizes) for plan in plans}
    lowest = mapping[registry.tiers[0].key]
    group = case(mapping, value=ls.tier_key, else_=lowest)
    k = case({tier: count_of[grp] for tier, grp in mapping.items()}, value=ls.tier_key, else_=count_of[lowest])
    points = case((in_week, ls.weekly_points), else_=0)
    position = func.row_number().over(partition_by=group, order_by=(ls.total_points, ls.learner_id)) - 1
    ranked = (
        select(ls.learner_id.label("learner_id"), group.label("grp"), k.label("k"), points.label("pts"),
               position.label("pos"))
        .join(Learner, Learner.id == ls.learner_id)
        .where(*eligible)
        .subquery("ranked")
    )
    target = _int(settings.target_size)
    seq = case((ranked.c.pos // target < ranked.c.k - 1, ranked.c.pos // target), else_=ranked.c.k - 1)
    placed_rows = select(ranked.c.learner_id, ranked.c.grp, ranked.c.pts, seq.label("seq")).subquery("placed")
    members = (
        select(Circle.id, placed_rows.c.learner_id, literal(week, String), placed_rows.c.pts,
               literal(now, DateTime(timezone=True)))
        .join(Circle, and_(Circle.week == week, Circle.tier_key == placed_rows.c.grp,
                           Circle.seq == placed_rows.c.seq))
        .order_by(placed_rows.c.learner_id)  # (learner_id, week) index filled in order, not at random
    )
    placed = session.execute(
        insert(CircleMembership.__table__).from_select(
            ["circle_id", "learner_id", "week", "points", "joined_at"], members),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    size_circle_goals(session, week, settings.goal_per_member)  # from each circle's own recent weeks

    first_id = session.scalar(select(func.min(Circle.id)).where(Circle.week == week))
    notified = _notify_assigned_bulk(session, week, first_id, now)
    return {"created": True, "learners": placed, "circles": len(circles), "notified": notified,
            "has_points": has_points}


def _notify_assigned_bulk(session: Session, week: str, first_circle_id: int, now: datetime) -> int:
    """One ``circle_assigned`` notification per member of the week's circles (prefs-aware, deduped), set-based."""
    cm = CircleMembership
    padded = (func.printf("%010d", cm.learner_id) if is_sqlite()
              else func.lpad(cast(cm.learner_id, String), 10, literal("0")))
    dedupe = literal(f"circle_assigned:{week}:") + padded
    data_fn = func.json_object if is_sqlite() else func.json_build_object
    rows = (
        select(
            cm.learner_id, literal("circle_assigned"), literal("Meet your Thrive Circle: ") + Circle.name,
            literal("Say hello to the learners at a similar stage to you this week."), literal("/"),
            data_fn(literal("circle_id"), Circle.id, literal("week"), literal(week)), dedupe,
            literal(now, DateTime(timezone=True)),
        )
        .select_from(cm)
        .join(Circle, Circle.id == cm.circle_id)
        .join(Learner, Learner.id == cm.learner_id)
        .where(cm.circle_id >= first_circle_id, Circle.week == week, _wants_expr("circle_assigned"))
        .order_by(cm.learner_id)  # ascending keys in both indexes: sequential index inserts
    )
    stmt = dialect_insert(session)(Notification.__table__).from_select(
        ["learner_id", "type", "title", "body", "link", "data", "dedupe_key", "created_at"], rows
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def _top_up(session: Session, week: str, settings: CircleSettings, registry: Registry, now: datetime) -> dict:
    """Re-run of an assigned week: place eligible learners that have no circle yet, one by one."""
    ls, cm = LearnerState, CircleMembership
    in_week = and_(ls.weekly_week == week, ls.weekly_points > 0)
    todo = session.execute(
        select(ls.learner_id, ls.tier_key, case((in_week, ls.weekly_points), else_=0), Learner.notification_prefs)
        .join(Learner, Learner.id == ls.learner_id)
        .where(*_eligibility(week, settings))
        .where(~exists().where(cm.learner_id == ls.learner_id, cm.week == week))
        .order_by(ls.total_points, ls.learner_id)
    ).all()
    circles_before = session.scalar(select(func.count(Circle.id)).where(Circle.week == week)) or 0
    has_points = False
    for learner_id, tier_key, points, prefs in todo:
        _place_learner(session, learner_id, tier_key, week, points, now, settings, registry, prefs)
        has_points = has_points or points > 0
    circles_after = session.scalar(select(func.count(Circle.id)).where(Circle.week == week)) or 0
    notified = sum(1 for _id, _tier, _points, prefs in todo if notifications.wants(prefs, "circle_assigned"))
    return {"created": False, "learners": len(todo), "circles": circles_after - circles_before,
            "notified": notified, "has_points": has_points}


def _place_learner(session: Session, learner_id: int, tier_key: str, week: str, points: int, now: datetime,
                   settings: CircleSettings, registry: Registry, prefs: dict | None) -> int:
    """Put one learner in a circle of the week (mid-week join rule); return the circle id.

    A circle of the learner's tier with fewer than ``ROOM_FACTOR × target``
    members (the fewest members first); when the tier has no circle this week
    (it was merged), the nearest tier below, then above, that has circles;
    otherwise — or when those are all full — a new circle of the learner's
    tier named with the next letter. The circle's goal target becomes
    members × goal per member. Caller holds the week's locks.
    """
    _pg_lock(session, f"join:{week}")
    room = ROOM_FACTOR * settings.target_size
    own = registry.tier(tier_key)
    keys = [t.key for t in registry.tiers]
    i = keys.index(own.key)
    chain = [own.key] + list(reversed(keys[:i])) + keys[i + 1:]
    cm = CircleMembership
    circle_id = None
    for candidate in chain:
        rows = session.execute(
            select(Circle.id, func.count(cm.id).label("members"))
            .outerjoin(cm, cm.circle_id == Circle.id)
            .where(Circle.week == week, Circle.tier_key == candidate)
            .group_by(Circle.id, Circle.seq)
            .order_by(func.count(cm.id), Circle.seq)
        ).all()
        if not rows:
            continue  # no circle of this tier this week: try the tier it would have merged into
        with_room = [r for r in rows if r.members < room]
        if with_room:
            circle_id = with_room[0].id
        break  # the nearest tier with circles decides; full → a new circle of the learner's own tier
    if circle_id is None:
        last = session.scalar(select(func.max(Circle.seq)).where(Circle.week == week, Circle.tier_key == own.key))
        seq = 0 if last is None else last + 1
        circle = Circle(week=week, tier_key=own.key, name=circle_name(own.name, seq), seq=seq, goal_target=0,
                        created_at=now)
        session.add(circle)
        session.flush()
        circle_id = circle.id
    session.add(cm(circle_id=circle_id, learner_id=learner_id, week=week, points=max(points, 0), joined_at=now))
    session.flush()
    size_circle_goals(session, week, settings.goal_per_member, [circle_id])
    name = session.scalar(select(Circle.name).where(Circle.id == circle_id))
    notifications.notify(session, learner_id, "circle_assigned", f"Meet your Thrive Circle: {name}", prefs=prefs,
                         body="Say hello to the learners at a similar stage to you this week.", link="/",
                         data={"circle_id": circle_id, "week": week},
                         dedupe_key=assigned_dedupe_key(learner_id, week))
    return circle_id

