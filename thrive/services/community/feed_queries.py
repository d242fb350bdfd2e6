"""The community feed's SQL: visible entries and tier-ups, cheers, circle peers (§8.1, §8.3, §8.4, §11).

Every query applies the visibility rules of
:mod:`thrive.services.community.visibility` in SQL, so hidden rows never leave
the database; :mod:`thrive.services.community.feed` groups and pages the rows.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Integer, and_, any_, bindparam, case, exists, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from thrive.db import read_rows
from thrive.extensions import db
from thrive.models import (
    Cheer,
    CircleMembership,
    Follow,
    HiddenFeedItem,
    Learner,
    LearnerAchievement,
    LedgerEntry,
    ProgressionEvent,
)
from thrive.services.community.feed_items import _RANK, Actor, FeedItem, _after_cursor
from thrive.services.community.visibility import (
    entry_feed_visible_sql,
    shares_activities_sql,
    tier_up_feed_visible_sql,
)
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, local_date, platform_timezone_name, platform_week, utcnow

MAX_TOPIC_CHARS = 60


# --- data from metadata -------------------------------------------------------

def _topic(meta: dict | None) -> str | None:
    value = (meta or {}).get("topic")
    if isinstance(value, str):
        value = " ".join(value.split())
        if value:
            return value[:MAX_TOPIC_CHARS]
    return None


def _bucket_day(instant: datetime, tz_name: str | None = None) -> str:
    """The platform-local date of ``instant`` (``tz_name``: the platform zone, when the caller read it already)."""
    return local_date(instant, tz_name or platform_timezone_name()).isoformat()


def _entry_group_key(activity_type: str, meta: dict | None, occurred_at: datetime, tz_name: str | None = None) -> str:
    if activity_type == "circle_goal_completed" and (meta or {}).get("circle_id") is not None:
        return f"circle_goal:{meta['circle_id']}:{meta.get('week') or ''}"
    return f"{activity_type}:{_bucket_day(occurred_at, tz_name)}"


# --- queries -----------------------------------------------------------------

def not_hidden(kind: str, id_column):
    """SQL condition: the feed item (``kind`` "entry" or "tier_up", id in ``id_column``) is not hidden.

    Moderators hide items (``services.community.moderation``); a hidden item is
    left out of every feed, profile and circle panel and refuses cheers (its
    points stay). Used by every query that shows feed items.
    """
    return ~exists().where(HiddenFeedItem.target_kind == kind, HiddenFeedItem.target_id == id_column)


def _scope_filter(column, scope: str, viewer_id: int, learner_id: int | None):
    if scope == "following":
        return column.in_(select(Follow.followed_id).where(Follow.follower_id == viewer_id))
    if scope == "profile":
        return column == learner_id
    return None


def _fetch_entries(since, cursor, scope, viewer_id, learner_id, limit) -> list[FeedItem]:
    q = (
        select(LedgerEntry.id, LedgerEntry.activity_type, LedgerEntry.meta, LedgerEntry.occurred_at,
               Learner.id, Learner.username, Learner.display_name, Learner.share_profile)
        .join(Learner, Learner.id == LedgerEntry.learner_id)
        .where(
            LedgerEntry.occurred_at >= since,
            entry_feed_visible_sql(LedgerEntry, Learner),   # the one visibility rule (incl. staff, §11)
            not_hidden("entry", LedgerEntry.id),  # moderation (§11)
            ~select(LearnerAchievement.id).where(  # a private or revoked badge never shows (§10)
                LearnerAchievement.ledger_entry_id == LedgerEntry.id,
                or_(LearnerAchievement.visibility == "private", LearnerAchievement.revoked_at.is_not(None)),
            ).exists(),
        )
        .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())
        .limit(limit)
    )
    for cond in (_after_cursor(LedgerEntry.occurred_at, LedgerEntry.id, _RANK["entry"], cursor),
                 _scope_filter(LedgerEntry.learner_id, scope, viewer_id, learner_id)):
        if cond is not None:
            q = q.where(cond)
    items = []
    tz_name = platform_timezone_name()  # once, not per row (a window reads 5,000)
    for entry_id, activity_type, meta, occurred_at, lid, username, display_name, share_profile in db.session.execute(q):
        occurred_at = as_utc(occurred_at)
        items.append(FeedItem(
            kind="entry", id=entry_id, actor=Actor(lid, username, display_name, share_profile),
            occurred_at=occurred_at, activity_type=activity_type,
            # an achievement's topic is the badge's name ("Aisha earned Week Warrior", §10)
            topic=(_topic({"topic": (meta or {}).get("name")}) if activity_type == "achievement_earned"
                   else _topic(meta)),
            group_key=_entry_group_key(activity_type, meta, occurred_at, tz_name),
            circle_name=(meta or {}).get("circle_name") if activity_type == "circle_goal_completed" else None,
            can_cheer=lid != viewer_id,
        ))
    return items


def _fetch_tier_ups(since, cursor, scope, viewer_id, learner_id, limit) -> list[FeedItem]:
    registry = load_registry()
    q = (
        select(ProgressionEvent.id, ProgressionEvent.to_value, ProgressionEvent.occurred_at,
               Learner.id, Learner.username, Learner.display_name, Learner.share_profile)
        .join(Learner, Learner.id == ProgressionEvent.learner_id)
        .where(
            ProgressionEvent.occurred_at >= since,
            tier_up_feed_visible_sql(ProgressionEvent, Learner),   # the one visibility rule (incl. staff, §11)
            not_hidden("tier_up", ProgressionEvent.id),  # moderation (§11)
        )
        .order_by(ProgressionEvent.occurred_at.desc(), ProgressionEvent.id.desc())
        .limit(limit)
    )
    for cond in (_after_cursor(ProgressionEvent.occurred_at, ProgressionEvent.id, _RANK["tier_up"], cursor),
                 _scope_filter(ProgressionEvent.learner_id, scope, viewer_id, learner_id)):
        if cond is not None:
            q = q.where(cond)
    items = []
    tz_name = platform_timezone_name()  # once, not per row
    for event_id, tier_key, occurred_at, lid, username, display_name, share_profile in db.session.execute(q):
        tier = registry.tier(tier_key)
        occurred_at = as_utc(occurred_at)
        items.append(FeedItem(
            kind="tier_up", id=event_id, actor=Actor(lid, username, display_name, share_profile),
            occurred_at=occurred_at, activity_type=None, tier=tier,
            group_key=f"tier_up:{tier.key}:{_bucket_day(occurred_at, tz_name)}", can_cheer=lid != viewer_id,
        ))
    return items


@cache
def _circle_members_statement():
    mine = (select(CircleMembership.circle_id)
            .where(CircleMembership.learner_id == bindparam("viewer_id"), CircleMembership.week == bindparam("week"))
            .scalar_subquery())
    return select(CircleMembership.learner_id).where(CircleMembership.circle_id == mine)


def circle_member_ids(viewer_id: int, now: datetime | None = None) -> set[int]:
    """Ids of the other members of the viewer's Thrive Circle this platform week (empty if none). One query."""
    week = platform_week(as_utc(now) if now else utcnow())
    ids = read_rows(_circle_members_statement(), {"viewer_id": viewer_id, "week": week}).scalars()
    return {i for i in ids if i != viewer_id}


def in_ids(column, ids: list[int]):
    """SQL ``column IN ids``: on PostgreSQL ``= ANY(:array)``, one bound array.

    A page checks a few hundred ids; as one parameter the statement text stays
    the same from request to request (psycopg parses and prepares it once)
    instead of carrying hundreds of placeholders.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def in_ids_param(column, name: str, dialect: str):
    """:func:`in_ids` with the ids left to the bound parameter ``name`` (a list), for statements built once."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@cache
def _page_state_statement(dialect: str):
    """The statement of :func:`page_state`, built once per dialect (parameters ``entry_ids``, ``tier_ids``,
    ``viewer_id``): building it cost more CPU than running it (issue 12)."""
    def targets(kind_col, id_col):
        return or_(and_(kind_col == "entry", in_ids_param(id_col, "entry_ids", dialect)),
                   and_(kind_col == "tier_up", in_ids_param(id_col, "tier_ids", dialect)))

    la = LearnerAchievement
    return union_all(
        select(literal("c"), Cheer.target_kind, Cheer.target_id, func.count(Cheer.id),
               func.sum(case((Cheer.cheerer_id == bindparam("viewer_id"), 1), else_=0)))
        .where(targets(Cheer.target_kind, Cheer.target_id)).group_by(Cheer.target_kind, Cheer.target_id),
        select(literal("h"), HiddenFeedItem.target_kind, HiddenFeedItem.target_id, literal(0), literal(0))
        .where(targets(HiddenFeedItem.target_kind, HiddenFeedItem.target_id)),
        select(literal("h"), literal("entry"), la.ledger_entry_id, literal(0), literal(0))
        .where(in_ids_param(la.ledger_entry_id, "entry_ids", dialect),
               or_(la.visibility == "private", la.revoked_at.is_not(None))),
    )


def page_state(items: list[FeedItem], viewer_id: int) -> tuple[dict[tuple[str, int], tuple[int, bool]],
                                                               set[tuple[str, int]]]:
    """For a page of items read earlier (a cached window): their cheers now, and which may no longer show.

    Returns ``({(kind, id): (cheers, cheered by the viewer)}, {(kind, id) hidden by a moderator since, or an
    entry whose badge became private or was revoked (§10, §11)})`` — one statement.
    """
    entry_ids = sorted({i.id for i in items if i.kind == "entry"}) or [-1]
    tier_ids = sorted({i.id for i in items if i.kind == "tier_up"}) or [-1]
    cheers: dict[tuple[str, int], tuple[int, bool]] = {}
    gone: set[tuple[str, int]] = set()
    for source, kind, target_id, count, viewer_cheered in read_rows(
            _page_state_statement(_dialect()), {"entry_ids": entry_ids, "tier_ids": tier_ids, "viewer_id": viewer_id}):
        if source == "c":
            cheers[(kind, target_id)] = (int(count), bool(viewer_cheered))
        else:
            gone.add((kind, target_id))
    return cheers, gone


@cache
def _actors_statement(dialect: str):
    return (select(Learner.id, Learner.username, Learner.display_name, Learner.share_profile,
                   shares_activities_sql(Learner), Learner.share_tier_upgrades)
            .where(in_ids_param(Learner.id, "ids", dialect)))


def current_actors(learner_ids: set[int]) -> dict[int, tuple[Actor, bool, bool]]:
    """``{id: (Actor as of now, shares activities, shares tier-ups)}`` for learners shown from a cached window.

    The feed re-reads the shown learners' names and switches at every request,
    so a learner who stops sharing leaves every page at once (§8.4). One query.
    """
    if not learner_ids:
        return {}
    rows = read_rows(_actors_statement(_dialect()), {"ids": sorted(learner_ids)})
    return {lid: (Actor(lid, username, display_name, bool(share_profile)), bool(activities), bool(tier_ups))
            for lid, username, display_name, share_profile, activities, tier_ups in rows}


