"""The community feed's SQL: visible entries and tier-ups, cheers, circle peers (§8.1, §8.3, §8.4, §11).

Every query applies the visibility rules of
:mod:`thrive.services.community.visibility` in SQL, so hidden rows never leave
the database; :mod:`thrive.services.community.feed` groups and pages the rows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, exists, func, or_, select

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
from thrive.services.community.visibility import entry_feed_visible_sql, tier_up_feed_visible_sql
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


def _bucket_day(instant: datetime) -> str:
    return local_date(instant, platform_timezone_name()).isoformat()


def _entry_group_key(activity_type: str, meta: dict | None, occurred_at: datetime) -> str:
    if activity_type == "circle_goal_completed" and (meta or {}).get("circle_id") is not None:
        return f"circle_goal:{meta['circle_id']}:{meta.get('week') or ''}"
    return f"{activity_type}:{_bucket_day(occurred_at)}"


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
    for entry_id, activity_type, meta, occurred_at, lid, username, display_name, share_profile in db.session.execute(q):
        items.append(FeedItem(
            kind="entry", id=entry_id, actor=Actor(lid, username, display_name, share_profile),
            occurred_at=as_utc(occurred_at), activity_type=activity_type,
            # an achievement's topic is the badge's name ("Aisha earned Week Warrior", §10)
            topic=(_topic({"topic": (meta or {}).get("name")}) if activity_type == "achievement_earned"
                   else _topic(meta)),
            group_key=_entry_group_key(activity_type, meta, as_utc(occurred_at)),
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
    for event_id, tier_key, occurred_at, lid, username, display_name, share_profile in db.session.execute(q):
        tier = registry.tier(tier_key)
        items.append(FeedItem(
            kind="tier_up", id=event_id, actor=Actor(lid, username, display_name, share_profile),
            occurred_at=as_utc(occurred_at), activity_type=None, tier=tier,
            group_key=f"tier_up:{tier.key}:{_bucket_day(as_utc(occurred_at))}", can_cheer=lid != viewer_id,
        ))
    return items


def _annotate_cheers(items: list[FeedItem], viewer_id: int) -> None:
    """Fill ``cheers`` (count) and ``cheered`` (by the viewer) for a page of items."""
    by_kind: dict[str, list[int]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item.id)
    counts: dict[tuple[str, int], int] = {}
    mine: set[tuple[str, int]] = set()
    for kind, ids in by_kind.items():
        rows = db.session.execute(
            select(Cheer.target_id, func.count(Cheer.id),
                   func.sum(case((Cheer.cheerer_id == viewer_id, 1), else_=0)))
            .where(Cheer.target_kind == kind, Cheer.target_id.in_(ids))
            .group_by(Cheer.target_id)
        )
        for target_id, count, viewer_cheered in rows:
            counts[(kind, target_id)] = count
            if viewer_cheered:
                mine.add((kind, target_id))
    for item in items:
        item.cheers = counts.get((item.kind, item.id), 0)
        item.cheered = (item.kind, item.id) in mine


def circle_member_ids(viewer_id: int, now: datetime | None = None) -> set[int]:
    """Ids of the other members of the viewer's Thrive Circle this platform week (empty if none)."""
    week = platform_week(as_utc(now) if now else utcnow())
    circle_id = db.session.scalar(
        select(CircleMembership.circle_id).where(CircleMembership.learner_id == viewer_id,
                                                 CircleMembership.week == week)
    )
    if circle_id is None:
        return set()
    ids = db.session.scalars(select(CircleMembership.learner_id).where(CircleMembership.circle_id == circle_id))
    return {i for i in ids if i != viewer_id}


