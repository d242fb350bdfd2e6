"""Thrive Circles (§6.1): weekly assignment, mid-week joiners, circle goal and the circle panel.

Assignment (:func:`assign_circles`, run by the scheduler every Monday 00:00
platform time, by ``flask thrive assign-circles`` and as a catch-up):

- **eligible**: active accounts whose last award (``LearnerState.last_award_at``,
  a UTC instant) lies in ``[week start − THRIVE_CIRCLE_ELIGIBILITY_DAYS,
  week end)``. The upper bound is the week's end, not its start, so a late
  (catch-up) run also places learners who became active since Monday.
- **grouped by tier** (ladder order of :func:`~.registry.load_registry`),
  **sorted by total points** within the group (ties by learner id), **split**
  into circles of ``THRIVE_CIRCLE_TARGET_SIZE`` (T); the leftover after the
  last full circle becomes its own circle when it has at least
  ``THRIVE_CIRCLE_MIN_SIZE`` (M) learners, otherwise it merges into the
  neighbouring (previous) circle — so every circle has between M and T+M−1
  learners (< 2T), except when the whole population is smaller than M
  (:func:`circle_sizes`).
- **small tiers merge** with the adjacent tier (:func:`plan_groups`): walking
  the ladder from the top down, a tier with fewer than M eligible learners
  (together with whatever was merged into it) merges *down* into the next
  lower tier that has learners; the lowest tier, if still too small, merges
  *up* into the group above it. A merged group is named and tiered after the
  tier it merged into ("Beacon Circle A" may hold a few Phoenix learners, who
  sort last because their totals are highest).
- **names** "<Tier> Circle A", "B", … "Z", "AA", "AB" … (:func:`seq_label`).
- **weekly points**: a membership's ``points`` are the learner's points in
  that week — 0 when placed on Monday (their ``LearnerState.weekly_points``
  belong to last week), their points so far when placed later — and grow with
  every award of that week (award hook). Once the week is over the row is
  final history: awards back-dated into a closed week do not change it.
- **idempotent**: a week is assigned once in bulk and then marked in
  ``circle_weeks``; a re-run only places eligible learners that have no
  circle yet (normally nobody), one by one, like mid-week joiners.

The bulk assignment is set-based: one small ``GROUP BY`` for the counts per
tier, one multi-row insert of the circles, one ``INSERT … SELECT`` with
``row_number() OVER (PARTITION BY group ORDER BY total)`` for the
memberships and one ``INSERT … SELECT`` for the ``circle_assigned``
notifications — no Python loop per learner (see ``benchmarks/bench_circles.py``).

Mid-week joiners, membership points and the circle goal are maintained by an
award hook (runs inside the award transaction). Reaching the goal only
*marks* the circle (``UPDATE … WHERE goal_completed_at IS NULL``); the
members are awarded afterwards, outside that transaction, by
:func:`settle_circle_goals` — see :func:`settle_pending` and docs/circles.md.

Concurrency on PostgreSQL: the bulk/top-up assignment holds an exclusive
transaction-level advisory lock for the week; a hook that finds no membership
takes it shared (so it waits for a running assignment and then sees its
result) and takes a per-week "join" lock before choosing a circle, so two
joiners never overfill or create the same circle; the goal check locks the
circle row (``FOR UPDATE``), so the last of several concurrent contributors
always sees the others' committed points. On SQLite every write transaction is
``BEGIN IMMEDIATE`` and thus serialised.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    event,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from thrive.db import is_sqlite, write_transaction
from thrive.extensions import db
from thrive.models import Circle, CircleMembership, Learner, LearnerState, LedgerEntry, Notification
from thrive.models.circle_week import CircleWeek
from thrive.services.community.feed import ANONYMOUS_NAME, HIDDEN_ACTIVITY_TYPES, entry_predicate, not_hidden
from thrive.services.errors import ThriveError, ValidationError, validate_week
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardContext, award, register_award_hook
from thrive.services.points.registry import Registry, TierSnapshot, load_registry
from thrive.services.progression.state import effective_streak
from thrive.timeutil import as_utc, local_date, platform_week, shift_week, utcnow, week_start_instant

log = logging.getLogger(__name__)

#: Activity type of the circle goal bonus (a default point rule, §4.2).
GOAL_ACTIVITY = "circle_goal_completed"
#: Default bonus (points) for each contributing member when a circle reaches its goal.
DEFAULT_GOAL_BONUS = 50
#: A circle has room for a mid-week joiner while it has fewer than this many × target members.
ROOM_FACTOR = 2

_PENDING_KEY = "thrive.circles.pending_goals"
#: PostgreSQL ``work_mem`` for the bulk assignment transaction (sorts of ~1M rows stay in memory).
BULK_WORK_MEM = "128MB"


def assigned_dedupe_key(learner_id: int, week: str) -> str:
    """Dedupe key of a learner's ``circle_assigned`` notification for ``week``.

    The id is zero-padded so that the bulk insert, ordered by learner id, also
    fills the unique dedupe-key index in ascending order.
    """
    return f"circle_assigned:{week}:{learner_id:010d}"


# --------------------------------------------------------------- settings ---

@dataclass(frozen=True)
class CircleSettings:
    """Circle configuration (§6.1), read from the app config.

    ``target_size``/``min_size`` in learners; ``eligibility_days`` in days;
    ``goal_per_member`` and ``goal_bonus`` in points.
    """

    target_size: int
    min_size: int
    eligibility_days: int
    goal_per_member: int
    goal_bonus: int


def circle_settings() -> CircleSettings:
    """The current :class:`CircleSettings`.

    Reads ``THRIVE_CIRCLE_TARGET_SIZE`` (25), ``THRIVE_CIRCLE_MIN_SIZE`` (15),
    ``THRIVE_CIRCLE_ELIGIBILITY_DAYS`` (28), ``THRIVE_CIRCLE_GOAL_PER_MEMBER``
    (100) and ``THRIVE_CIRCLE_GOAL_BONUS`` (50; app config, else the
    environment). Raises ``ValidationError`` (code ``invalid_config``) unless
    1 ≤ min ≤ target, eligibility ≥ 1 day, goal per member ≥ 0 and
    1 ≤ bonus ≤ 1000 (the ``circle_goal_completed`` rule's custom range).
    """
    cfg = current_app.config
    bonus = cfg.get("THRIVE_CIRCLE_GOAL_BONUS") or os.environ.get("THRIVE_CIRCLE_GOAL_BONUS") or DEFAULT_GOAL_BONUS
    try:
        s = CircleSettings(
            target_size=int(cfg.get("THRIVE_CIRCLE_TARGET_SIZE", 25)),
            min_size=int(cfg.get("THRIVE_CIRCLE_MIN_SIZE", 15)),
            eligibility_days=int(cfg.get("THRIVE_CIRCLE_ELIGIBILITY_DAYS", 28)),
            goal_per_member=int(cfg.get("THRIVE_CIRCLE_GOAL_PER_MEMBER", 100)),
            goal_bonus=int(bonus),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"circle settings must be integers: {exc}", code="invalid_config") from exc
    if not 1 <= s.min_size <= s.target_size:
        raise ValidationError("THRIVE_CIRCLE_MIN_SIZE must be between 1 and THRIVE_CIRCLE_TARGET_SIZE",
                              code="invalid_config")
    if s.eligibility_days < 1 or s.goal_per_member < 0 or not 1 <= s.goal_bonus <= 1000:
        raise ValidationError("circle eligibility days must be ≥ 1, goal per member ≥ 0 and the goal bonus "
                              "between 1 and 1000 points", code="invalid_config")
    return s


# --------------------------------------------------------- pure planning ---

def seq_label(seq: int) -> str:
    """Letters for circle number ``seq`` (0-based): 0 → "A", 25 → "Z", 26 → "AA", 27 → "AB" …"""
    if seq < 0:
        raise ValueError("seq must be ≥ 0")
    out = ""
    n = seq + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def circle_name(tier_name: str, seq: int) -> str:
    """``"<Tier> Circle <letters>"``, e.g. ``circle_name("Ember", 1) == "Ember Circle B"``."""
    return f"{tier_name} Circle {seq_label(seq)}"


def circle_count(n: int, target: int, minimum: int) -> int:
    """How many circles a group of ``n`` learners is split into (0 for an empty group)."""
    if n <= 0:
        return 0
    return max(1, n // target + (1 if n % target >= minimum else 0))


def circle_sizes(n: int, target: int, minimum: int) -> list[int]:
    """Sizes of the circles a group of ``n`` learners (sorted by total) is split into (§6.1).

    Full circles of ``target``; the leftover forms its own circle when it has
    at least ``minimum`` learners, else it merges into the previous circle.
    With 1 ≤ minimum ≤ target every size lies in [minimum, target + minimum − 1]
    unless n < minimum (one small circle). Position p (0-based) goes to circle
    ``min(p // target, count − 1)`` — exactly what the SQL computes.
    """
    k = circle_count(n, target, minimum)
    if k == 0:
        return []
    return [target] * (k - 1) + [n - target * (k - 1)]


@dataclass(frozen=True)
class GroupPlan:
    """One group of the assignment: learners of ``member_tiers`` split into circles named after ``tier_key``.

    ``member_tiers`` lists ladder tier keys, lowest first; more than one means
    small tiers were merged (see :func:`plan_groups`). ``sizes`` are the
    circle sizes in order (circle ``seq`` 0, 1, …), lowest totals first.
    """

    tier_key: str
    member_tiers: tuple[str, ...]
    size: int
    sizes: tuple[int, ...]


def plan_groups(counts: Sequence[tuple[str, int]], target: int, minimum: int) -> list[GroupPlan]:
    """Decide the groups for eligible-learner ``counts`` per tier, given in ladder order (lowest first).

    Top-down: a tier with fewer than ``minimum`` learners (including tiers
    already merged into it) merges into the next lower non-empty tier; the
    lowest group, if still smaller than ``minimum``, merges up into the group
    above it. Empty tiers are skipped. Returns the groups lowest first.
    """
    nonempty = [(key, n) for key, n in counts if n > 0]
    groups: list[list] = []  # [tier_key, member tiers (lowest first), size], built top → bottom
    carry_tiers: list[str] = []
    carry_n = 0
    for i in range(len(nonempty) - 1, -1, -1):
        key, n = nonempty[i]
        tiers, total = [key] + carry_tiers, n + carry_n
        if total < minimum and i > 0:
            carry_tiers, carry_n = tiers, total
            continue
        groups.append([key, tiers, total])
        carry_tiers, carry_n = [], 0
    if len(groups) >= 2 and groups[-1][2] < minimum:
        bottom = groups.pop()
        groups[-1][1] = bottom[1] + groups[-1][1]
        groups[-1][2] += bottom[2]
    groups.reverse()
    return [GroupPlan(key, tuple(tiers), n, tuple(circle_sizes(n, target, minimum))) for key, tiers, n in groups]


def _tier_to_group(registry: Registry, plans: Sequence[GroupPlan]) -> dict[str, str]:
    """Every ladder tier key → the group tier its learners go to (tiers without learners: nearest group)."""
    keys = [t.key for t in registry.tiers]
    mapping = {tier: plan.tier_key for plan in plans for tier in plan.member_tiers}
    if not plans:
        return mapping
    for i, key in enumerate(keys):
        if key in mapping:
            continue
        lower = [mapping[k] for k in reversed(keys[:i]) if k in mapping]
        higher = [mapping[k] for k in keys[i + 1:] if k in mapping]
        mapping[key] = (lower or higher)[0]
    return mapping


# ------------------------------------------------------------- helpers ---

def _week_bounds(week: str) -> tuple[datetime, datetime]:
    return week_start_instant(week), week_start_instant(shift_week(week, 1))


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(f"thrive.circles:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _pg_lock(session: Session, name: str, *, shared: bool = False) -> None:
    """Transaction-level advisory lock on PostgreSQL (SQLite serialises writers already)."""
    if is_sqlite():
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(text(f"SELECT {fn}(:k)"), {"k": _lock_key(name)})


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
    if completed:
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
        insert(CircleMembership.__table__).from_select(["circle_id", "learner_id", "week", "points", "joined_at"], members),
        execution_options={"preserve_rowcount": True},
    ).rowcount

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
    if is_sqlite():
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    stmt = dialect_insert(Notification.__table__).from_select(
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
    members = session.scalar(select(func.count(cm.id)).where(cm.circle_id == circle_id))
    session.execute(update(Circle).where(Circle.id == circle_id)
                    .values(goal_target=members * settings.goal_per_member))
    name = session.scalar(select(Circle.name).where(Circle.id == circle_id))
    notifications.notify(session, learner_id, "circle_assigned", f"Meet your Thrive Circle: {name}", prefs=prefs,
                         body="Say hello to the learners at a similar stage to you this week.", link="/",
                         data={"circle_id": circle_id, "week": week},
                         dedupe_key=assigned_dedupe_key(learner_id, week))
    return circle_id


# ------------------------------------------------------------ award hook ---

@register_award_hook
def _circle_award_hook(ctx: AwardContext) -> None:
    """Inside every award: membership points, mid-week joiners, circle goal marking (§6.1)."""
    entry = ctx.entry
    if entry.activity_type == GOAL_ACTIVITY and entry.points > 0:
        _goal_award_notice(ctx)
    if entry.points <= 0 or entry.capped:
        return
    week = entry.week
    if week != platform_week(utcnow()):
        return  # a back-dated award into a closed week: that week's history is final
    session = ctx.session
    row = _membership(session, ctx.learner_id, week)
    if row is None:
        # Wait for a running assignment of this week (it may be placing this learner) …
        _pg_lock(session, f"week:{week}", shared=True)
        row = _membership(session, ctx.learner_id, week)
    if row is None:
        # … and only join mid-week once the week has been assigned (a catch-up run places everyone else).
        if session.scalar(select(CircleWeek.week).where(CircleWeek.week == week)) is None:
            return
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
        points = state.weekly_points if state.weekly_week == week else entry.points
        circle_id = _place_learner(session, ctx.learner_id, state.tier_key, week, points, utcnow(),
                                   settings, ctx.registry, prefs)
        _check_goal(session, circle_id, new_contributor=points > 0)
        return
    membership_id, circle_id, old_points = row
    session.execute(update(CircleMembership).where(CircleMembership.id == membership_id)
                    .values(points=CircleMembership.points + entry.points))
    _check_goal(session, circle_id, new_contributor=old_points <= 0)


def _membership(session: Session, learner_id: int, week: str):
    cm = CircleMembership
    return session.execute(
        select(cm.id, cm.circle_id, cm.points).where(cm.learner_id == learner_id, cm.week == week)
    ).first()


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

def _queue_settle(session: Session, circle_id: int) -> None:
    session.info.setdefault(_PENDING_KEY, set()).add(circle_id)


@event.listens_for(Session, "after_commit")
def _pending_after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING_KEY, None)
    if ids and has_app_context():
        g.setdefault(_PENDING_KEY, set()).update(ids)


@event.listens_for(Session, "after_rollback")
def _pending_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def settle_pending() -> dict:
    """Award the circles whose goal was reached by transactions committed in this app context.

    Called after the request/CLI command/job (``teardown_appcontext``,
    registered by the circles blueprint) and usable directly. Returns the
    :func:`settle_circle_goals` counts (zeros when nothing is pending).
    """
    totals = {"circles": 0, "marked": 0, "awarded": 0, "points": 0}
    for _ in range(5):  # settling awards points, which may (rarely) queue more
        ids = g.pop(_PENDING_KEY, None) if has_app_context() else None
        if not ids:
            break
        for key, value in settle_circle_goals(circle_ids=sorted(ids)).items():
            totals[key] += value
    return totals


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


# --------------------------------------------------------------- reading ---

@dataclass(frozen=True)
class CircleSummary:
    """One circle of a week for lists (CLI, admin): no per-member points."""

    id: int
    name: str
    tier: TierSnapshot
    members: int
    goal_target: int
    points_together: int
    goal_completed: bool


def list_circles(week: str) -> list[CircleSummary]:
    """The circles of platform ISO ``week`` in ladder then name order. Raises ValidationError for a bad week."""
    week = validate_week(week)
    registry = load_registry()
    cm = CircleMembership
    rows = db.session.execute(
        select(Circle.id, Circle.name, Circle.tier_key, Circle.seq, Circle.goal_target, Circle.goal_completed_at,
               func.count(cm.id), func.coalesce(func.sum(cm.points), 0))
        .outerjoin(cm, cm.circle_id == Circle.id)
        .where(Circle.week == week)
        .group_by(Circle.id, Circle.name, Circle.tier_key, Circle.seq, Circle.goal_target, Circle.goal_completed_at)
    ).all()
    rows.sort(key=lambda r: (registry.tier_index(r[2]), r[3]))
    return [CircleSummary(r[0], r[1], registry.tier(r[2]), r[6], r[4], int(r[7]), r[5] is not None) for r in rows]


@dataclass(frozen=True)
class CircleMember:
    """A member as others see them (§6.1, §8.4): never their points.

    ``display_name`` is "A learner" when they do not share their profile
    (``avatar_name`` is then None: a neutral avatar). ``streak`` in days.
    """

    display_name: str
    avatar_name: str | None
    tier: TierSnapshot
    streak: int
    is_you: bool


@dataclass(frozen=True)
class CircleActivity:
    """One shared activity of a circle member, without any amount (§8.1).

    ``text`` is the community feed's sentence after the name ("completed a quiz on DDD").
    """

    who: str
    is_you: bool
    text: str
    occurred_at: datetime
    ago: str


@dataclass(frozen=True)
class CirclePanel:
    """What "Your Thrive Circle" shows of the learner's circle this week (§6.1).

    ``points_together`` is the aggregate of all members' points this week;
    ``goal_percent`` 0–100. ``resets_at`` is the next week start (UTC instant),
    ``remaining_seconds`` the time until then.
    """

    circle_id: int
    name: str
    week: str
    tier: TierSnapshot
    members: list[CircleMember]
    activities: list[CircleActivity]
    points_together: int
    goal_target: int
    goal_percent: int
    goal_completed: bool
    resets_at: datetime
    remaining_seconds: int
    goal_bonus: int = field(default=DEFAULT_GOAL_BONUS)


ANONYMOUS = ANONYMOUS_NAME
ACTIVITY_LIMIT = 8


def week_reset(now: datetime | None = None) -> tuple[str, datetime, int]:
    """(current platform week, next week's start as a UTC instant, seconds until then)."""
    now = as_utc(now) if now else utcnow()
    week = platform_week(now)
    resets_at = week_start_instant(shift_week(week, 1))
    return week, resets_at, max(int((resets_at - now).total_seconds()), 0)


def format_remaining(seconds: int) -> str:
    """A countdown as words: ``"2 days 3 h"``, ``"5 h 12 min"``, ``"12 min"``, ``"less than a minute"``."""
    days, rest = divmod(max(int(seconds), 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "less than a minute"


def _ago(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def circle_panel(learner_id: int, now: datetime | None = None) -> CirclePanel | None:
    """The learner's circle this week for the home panel, or None when they have no circle yet.

    Members are ordered by the name shown (case-insensitive), never by points;
    activity lists this week's awards of members who share activities (the
    viewer's own always, as "You") by the community feed's rules — points > 0,
    not capped, not a hidden type (daily visits, cheers, admin corrections) —
    newest first, as the feed's sentences, without amounts (§1.3, §8.1, §8.4).
    """
    now = as_utc(now) if now else utcnow()
    week, resets_at, remaining = week_reset(now)
    cm = CircleMembership
    circle = db.session.execute(
        select(Circle).join(cm, cm.circle_id == Circle.id).where(cm.learner_id == learner_id, cm.week == week)
    ).scalar_one_or_none()
    if circle is None:
        return None
    registry = load_registry()
    rows = db.session.execute(
        select(Learner.id, Learner.display_name, Learner.share_profile, Learner.share_activities, Learner.timezone,
               LearnerState)
        .join(cm, cm.learner_id == Learner.id)
        .join(LearnerState, LearnerState.learner_id == Learner.id)
        .where(cm.circle_id == circle.id)
    ).all()
    members, names, sharing = [], {}, []
    for lid, display_name, share_profile, share_activities, tz, state in rows:
        is_you = lid == learner_id
        shown = display_name if (share_profile or is_you) else ANONYMOUS
        names[lid] = "You" if is_you else shown
        if share_activities or is_you:
            sharing.append(lid)
        streak = effective_streak(state, local_date(now, tz)).current
        members.append(CircleMember(shown, shown if (share_profile or is_you) else None,
                                    registry.tier(state.tier_key), streak, is_you))
    members.sort(key=lambda m: (m.display_name.casefold(), not m.is_you))
    points_together = int(db.session.scalar(
        select(func.coalesce(func.sum(cm.points), 0)).where(cm.circle_id == circle.id)) or 0)

    start, _ = _week_bounds(week)
    entries = db.session.execute(
        select(LedgerEntry.learner_id, LedgerEntry.activity_type, LedgerEntry.meta, LedgerEntry.occurred_at)
        .where(LedgerEntry.learner_id.in_(sharing), LedgerEntry.occurred_at >= start, LedgerEntry.points > 0,
               LedgerEntry.capped.is_(False), LedgerEntry.activity_type.not_in(sorted(HIDDEN_ACTIVITY_TYPES)),
               not_hidden("entry", LedgerEntry.id))  # items hidden by a moderator stay out (§11)
        .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())
        .limit(ACTIVITY_LIMIT)
    ).all() if sharing else []
    activities = [
        CircleActivity(names[lid], lid == learner_id, entry_predicate(activity_type, meta), as_utc(occurred_at),
                       _ago(now - as_utc(occurred_at)))
        for lid, activity_type, meta, occurred_at in entries
    ]
    target = circle.goal_target
    percent = 100 if target <= 0 else min(100, points_together * 100 // target)
    return CirclePanel(
        circle_id=circle.id, name=circle.name, week=week, tier=registry.tier(circle.tier_key), members=members,
        activities=activities, points_together=points_together, goal_target=target, goal_percent=percent,
        goal_completed=circle.goal_completed_at is not None, resets_at=resets_at, remaining_seconds=remaining,
        goal_bonus=_goal_bonus_or_default(),
    )


def _goal_bonus_or_default() -> int:
    try:
        return circle_settings().goal_bonus
    except ValidationError:
        return DEFAULT_GOAL_BONUS
