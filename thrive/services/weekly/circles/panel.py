"""The circle read model (§6.1, §7): circle lists for CLI/admin and the learner's circle panel."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Text, bindparam, cast, distinct, func, literal, select

from thrive.db import read_rows
from thrive.extensions import db
from thrive.models import Circle, CircleMembership, Learner, LearnerState, LedgerEntry
from thrive.services.community.feed import _topic, not_hidden
from thrive.services.community.feed_queries import in_ids_param
from thrive.services.community.visibility import (
    ANONYMOUS_NAME,
    entry_worth_showing_sql,
    is_profile_public,
    public_name,
    shares_activities,
    shown_aggregate,
    shown_percent,
)
from thrive.services.errors import validate_week
from thrive.services.points.registry import TierSnapshot, load_registry
from thrive.services.progression.state import effective_streak
from thrive.timeutil import as_utc, local_date, platform_week, shift_week, utcnow, week_start_instant

from .assignment import _week_bounds
from .settings import DEFAULT_GOAL_BONUS, goal_bonus_or_default

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
    (``avatar_name`` is then None: a neutral avatar, and ``is_private`` true;
    the web layer words anonymity). ``streak`` in days.
    """

    display_name: str
    avatar_name: str | None
    tier: TierSnapshot
    streak: int
    is_you: bool
    is_private: bool = False


@dataclass(frozen=True)
class CircleActivity:
    """What one circle member did this week of one activity type, without any amount (§8.1).

    ``who`` is the name shown (None for "you"); ``count`` how many times this
    week; ``topic`` the newest entry's topic (None when several topics or none);
    ``occurred_at`` the newest entry (UTC instant). The web layer words it.
    """

    who: str | None
    is_you: bool
    activity_type: str
    count: int
    topic: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class CirclePanel:
    """What "Your Thrive Circle" shows of the learner's circle this week (§6.1).

    ``points_together`` is the members' points this week as others may see an
    aggregate (rounded down to 50 points; None under 3 contributors, see
    ``visibility.shown_aggregate``); ``goal_percent`` 0–100 of that rounded
    total (None when hidden; 100 once the goal is reached). ``resets_at`` is the next week start (UTC instant),
    ``remaining_seconds`` the time until then.
    """

    circle_id: int
    name: str
    week: str
    tier: TierSnapshot
    members: list[CircleMember]
    activities: list[CircleActivity]
    points_together: int | None
    goal_target: int
    goal_percent: int | None
    goal_completed: bool
    resets_at: datetime
    remaining_seconds: int
    goal_bonus: int = field(default=DEFAULT_GOAL_BONUS)


class _StreakColumns(NamedTuple):
    """The streak columns of a member's ``LearnerState`` (what :func:`effective_streak` reads), without the entity."""

    current_streak: int
    longest_streak: int
    streak_through: date | None
    grace_days: int


ANONYMOUS = ANONYMOUS_NAME
ACTIVITY_LIMIT = 8


def week_reset(now: datetime | None = None) -> tuple[str, datetime, int]:
    """(current platform week, next week's start as a UTC instant, seconds until then)."""
    now = as_utc(now) if now else utcnow()
    week = platform_week(now)
    resets_at = week_start_instant(shift_week(week, 1))
    return week, resets_at, max(int((resets_at - now).total_seconds()), 0)


@cache
def _members_statement():
    """The circle, its members with their state and their points together (parameters ``learner_id``, ``week``).

    Built once: building it cost about as much CPU as running it (issue 12).
    """
    cm = CircleMembership
    mine = (select(cm.circle_id).where(cm.learner_id == bindparam("learner_id"), cm.week == bindparam("week"))
            .scalar_subquery())
    return (
        select(Learner.id, Learner.display_name, Learner.share_profile, Learner.share_activities, Learner.timezone,
               LearnerState.tier_key, LearnerState.current_streak, LearnerState.longest_streak,
               LearnerState.streak_through, LearnerState.grace_days, Learner.is_active_account,
               Circle.id, Circle.name, Circle.tier_key, Circle.goal_target, Circle.goal_completed_at,
               func.sum(cm.points).over(), func.count(cm.id).filter(cm.points > 0).over())
        .join(cm, cm.learner_id == Learner.id)
        .join(Circle, Circle.id == cm.circle_id)
        .join(LearnerState, LearnerState.learner_id == Learner.id)
        .where(cm.circle_id == mine)
    )


@cache
def _activity_statement(dialect: str):
    """This week's shown entries of the members who share them, grouped by learner and activity type in SQL
    (parameters ``ids``, ``start``; built once): the newest :data:`ACTIVITY_LIMIT` groups, each with its
    count, its newest instant and its topics' JSON texts (how many distinct, the least).

    A circle's week is a few hundred entries; grouping them in the database sends 8 rows instead of all of
    them, each with a JSON document to decode (issue 12). The topic is the metadata's JSON value as text
    (missing and JSON ``null`` both read ``null``), so a non-string topic stays a non-string. Topics compare
    as stored: the same topic typed with different spacing counts as two (the group then names none).
    """
    topic = func.coalesce(cast(LedgerEntry.meta["topic"], Text), literal("null"))
    newest = func.max(LedgerEntry.occurred_at)
    return (
        select(LedgerEntry.learner_id, LedgerEntry.activity_type, func.count(), newest,
               func.count(distinct(topic)), func.min(topic))
        .where(in_ids_param(LedgerEntry.learner_id, "ids", dialect), LedgerEntry.occurred_at >= bindparam("start"),
               entry_worth_showing_sql(LedgerEntry),
               not_hidden("entry", LedgerEntry.id))  # items hidden by a moderator stay out (§11)
        .group_by(LedgerEntry.learner_id, LedgerEntry.activity_type)
        .order_by(newest.desc(), func.max(LedgerEntry.id).desc())
        .limit(ACTIVITY_LIMIT)
    )


def _single_topic(distinct_topics: int, topic_json: str | None) -> str | None:
    """The group's topic as shown (``feed_queries._topic``) when all its entries have the same one, else None."""
    if distinct_topics != 1 or topic_json is None:
        return None
    try:
        return _topic({"topic": json.loads(topic_json)})
    except ValueError:  # not JSON text: cannot happen for a JSON column, shown as no topic rather than a 500
        return None


def circle_panel(learner_id: int, now: datetime | None = None) -> CirclePanel | None:
    """The learner's circle this week for the home panel, or None when they have no circle yet.

    Members are ordered by the name shown (case-insensitive), members with a
    private profile last, never by points; activity groups this week's awards
    of members who share activities (the viewer's own always) by learner and
    activity type, by the community feed's rules — points > 0, not capped, not
    a hidden type (daily visits, cheers, admin corrections) — newest first,
    at most :data:`ACTIVITY_LIMIT` groups, without amounts (§1.3, §8.1, §8.4).
    A group names its topic when all its entries carry the same one.
    """
    now = as_utc(now) if now else utcnow()
    week, resets_at, remaining = week_reset(now)
    # the circle, its members with their state, and the members' points together — one query
    rows = read_rows(_members_statement(), {"learner_id": learner_id, "week": week}).all()
    if not rows:
        return None
    registry = load_registry()
    circle_id, circle_name, circle_tier, target, completed_at = rows[0][11:16]
    total, contributors = rows[0][16] or 0, rows[0][17] or 0
    members, names, sharing = [], {}, []
    for (lid, display_name, share_profile, share_activities, tz, tier_key, current, longest, through, grace, active,
         *_circle) in rows:
        is_you = lid == learner_id
        shown = public_name(display_name, share_profile, active, is_viewer=is_you)
        names[lid] = None if is_you else shown
        if is_you or shares_activities(share_activities, active):
            sharing.append(lid)
        streak = effective_streak(_StreakColumns(current, longest, through, grace), local_date(now, tz)).current
        private = not (is_you or is_profile_public(share_profile, active))
        members.append(CircleMember(shown, None if private else shown, registry.tier(tier_key), streak, is_you,
                                    private))
    members.sort(key=lambda m: (m.is_private, m.display_name.casefold(), not m.is_you))

    start, _ = _week_bounds(week)
    groups = read_rows(_activity_statement(db.session.get_bind().dialect.name),
                       {"ids": sharing, "start": start}).all() if sharing else []
    activities = [CircleActivity(names[lid], lid == learner_id, activity_type, count,
                                 _single_topic(distinct_topics, topic_json), as_utc(newest))
                  for lid, activity_type, count, newest, distinct_topics, topic_json in groups]
    completed = completed_at is not None
    # Others' amounts must not be readable by differencing: rounded, and hidden under 3 contributors (§1.3).
    points_together = shown_aggregate(int(total), int(contributors))
    percent = 100 if completed else shown_percent(int(total), target, int(contributors))
    return CirclePanel(
        circle_id=circle_id, name=circle_name, week=week, tier=registry.tier(circle_tier), members=members,
        activities=activities, points_together=points_together, goal_target=target, goal_percent=percent,
        goal_completed=completed, resets_at=resets_at, remaining_seconds=remaining,
        goal_bonus=goal_bonus_or_default(),
    )

