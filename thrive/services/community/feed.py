"""The community feed: shared activity and tier-ups as data, paged and grouped (§8.1, §8.3, §8.4).

What a feed shows (the §8.1 rules, in one place):

- **Activity items** come from ``ledger_entries`` with ``points > 0`` and
  ``capped = false`` (capped and zero entries never appear) whose learner
  shares activities (§8.4) and whose account is active. A few activity types
  are never feed-worthy (:data:`HIDDEN_ACTIVITY_TYPES`: the automatic daily
  visit, the cheers themselves and admin corrections).
- **Tier-up items** come from ``progression_events`` of kind ``tier_up`` whose
  learner shares tier upgrades *and* activities: a learner who switched
  "share activities" off never appears in any feed (§8.4; the public stats
  count tier-ups on the tier-upgrade switch alone, see ``community``).
- **Never point amounts**: items carry the activity type, the entry's
  ``metadata.topic`` and (for tier-ups) the tier — no points field exists on
  :class:`FeedItem`. Services return data, never sentences: the web layer
  (``thrive/web/phrases.py``) turns items and groups into translated sentences.
- Newest first (by ``occurred_at``; at equal instants a tier-up precedes the
  award that caused it, then higher ids first), ``PAGE_SIZE`` units a page,
  paged with an opaque cursor (``before``) so "load more" is a plain link.
- A learner who does not share their profile is anonymous and not linked.

The visibility rules themselves live in :mod:`thrive.services.community.visibility`.

**Grouping** (:func:`group_items`) runs over the *whole* window, not per page,
so one burst of similar activity cannot fill the first screen. Items fall
into fixed buckets that new activity never re-partitions:

- a circle reaching its goal is one group per circle and week
  (``circle_goal:<circle id>:<week>``: "Beacon Circle B reached its goal together");
- a tier-up joins ``tier_up:<tier key>:<platform date>``;
- any other activity joins ``<activity type>:<platform date>``.

A bucket of :data:`MIN_GROUP` (3) or more items — two for a circle goal — is a
:class:`FeedGroup` (its position is its newest item); the page and the "load more" cursor are counted in *units*
(items and groups), and a unit is shown whole on one page — so "load more"
never repeats or splits a group. Each item stays inside its group (and can be
cheered there). At most :data:`MAX_WINDOW_ITEMS` newest items per source are
read for a page.

Scopes: ``everyone`` (the community feed, last ``FEED_DAYS`` days),
``following`` (learners the viewer follows, same window, §8.3) and
``profile`` (one learner's shared activity, last ``PROFILE_DAYS`` days, §7; not grouped).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, case, exists, func, or_, select

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
from thrive.services.community.visibility import (  # noqa: F401  (re-exported: the rules live there)
    ANONYMOUS_NAME,
    FEED_DAYS,
    HIDDEN_ACTIVITY_TYPES,
    entry_feed_visible_sql,
    public_name,
    public_username,
    tier_up_feed_visible_sql,
)
from thrive.services.errors import ValidationError
from thrive.services.points.registry import TierSnapshot, load_registry
from thrive.timeutil import as_utc, local_date, platform_timezone_name, platform_week, utcnow

PROFILE_DAYS = 30
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
#: Smallest bucket shown as a group (a circle goal groups from two): two similar items read fine apart.
MIN_GROUP = 3
#: Most items read per source (entries, tier-ups) to group a feed window.
MAX_WINDOW_ITEMS = 5000

#: Ordering rank at equal instants (higher first): a tier-up before its award.
_RANK = {"entry": 0, "tier_up": 1}

Scope = Literal["everyone", "following", "profile"]


MAX_TOPIC_CHARS = 60


@dataclass(frozen=True)
class Actor:
    """A learner as others see them: anonymous (no name, no link) unless they share their profile."""

    id: int
    username: str
    display_name: str
    shares_profile: bool

    @property
    def name(self) -> str:
        # feed rows are of active accounts only (visibility.shares_activities_sql)
        return public_name(self.display_name, self.shares_profile, True)

    @property
    def public_username(self) -> str | None:
        """The username to link to, or None when the profile is private."""
        return public_username(self.username, self.shares_profile, True)


@dataclass
class FeedItem:
    """One feed item. ``kind`` is ``"entry"`` (a ledger entry) or ``"tier_up"`` (a progression event).

    ``activity_type`` is set for entries, ``tier`` for tier-ups; ``topic`` is
    the entry's ``metadata.topic`` (whitespace-normalised, ≤ 60 characters) or
    None; ``circle_name`` is set for ``circle_goal_completed`` entries.
    ``occurred_at`` is a UTC instant. There is no points field, on purpose
    (§1.3). ``cheers`` counts cheers received, ``cheered`` is whether the
    viewer cheered it, ``can_cheer`` is false for the viewer's own items.
    """

    kind: str
    id: int
    actor: Actor
    occurred_at: datetime
    activity_type: str | None
    topic: str | None = None
    tier: TierSnapshot | None = None
    group_key: str = ""
    circle_name: str | None = None
    cheers: int = 0
    cheered: bool = False
    can_cheer: bool = True

    @property
    def sort_key(self) -> tuple:
        return (self.occurred_at, _RANK[self.kind], self.id)

    @property
    def dom_id(self) -> str:
        return f"feed-{self.kind.replace('_', '-')}-{self.id}"


@dataclass
class FeedGroup:
    """Two or more items of one bucket shown as one unit (see the module docstring).

    ``actor`` is set when every item is from the same learner ("Sarah completed
    3 quizzes"); ``people`` counts distinct learners; ``in_circle`` is true when
    they are all the viewer's circle peers; ``kind`` is ``"circle_goal"``,
    ``"tier_up"`` or ``"activity"``.
    """

    items: list[FeedItem]
    actor: Actor | None
    people: int
    kind: str
    in_circle: bool = False

    @property
    def head(self) -> FeedItem:
        return self.items[0]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def activity_type(self) -> str | None:
        return self.head.activity_type

    @property
    def tier(self) -> TierSnapshot | None:
        return self.head.tier

    @property
    def circle_name(self) -> str | None:
        return self.head.circle_name

    @property
    def occurred_at(self) -> datetime:
        return self.head.occurred_at

    @property
    def sort_key(self) -> tuple:
        return self.head.sort_key

    @property
    def dom_id(self) -> str:
        return f"feed-group-{self.head.dom_id[5:]}"


@dataclass
class FeedPage:
    """One page of a feed: ``units`` (items and groups, newest first), their ``items``, the next page's cursor."""

    scope: str
    items: list[FeedItem]
    units: list[FeedItem | FeedGroup]
    next_cursor: str | None
    cursor: str | None = None
    extra: dict = field(default_factory=dict)


# --- cursors -----------------------------------------------------------------

def encode_cursor(item: FeedItem) -> str:
    """Opaque "load more" cursor: the position just after ``item``."""
    at = as_utc(item.occurred_at).strftime("%Y-%m-%dT%H:%M:%S.%f")
    raw = f"{at}|{_RANK[item.kind]}|{item.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    """``(occurred_at UTC, rank, id)`` from a cursor; raises ``ValidationError`` when malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, rank, ident = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        instant = as_utc(datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%f"))
        if not (ident.isascii() and ident.isdigit() and len(ident) <= 18 and rank.isascii()):
            raise ValueError("cursor id out of range")
        rank_i, id_i = int(rank), int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError) as exc:
        raise ValidationError("the feed cursor is not valid", code="invalid_cursor") from exc
    if rank_i not in _RANK.values():
        raise ValidationError("the feed cursor is not valid", code="invalid_cursor")
    return instant, rank_i, id_i


def _after_cursor(at_col, id_col, rank: int, cursor: tuple[datetime, int, int] | None):
    """SQL condition "strictly after ``cursor`` in feed order" for a source of rank ``rank``."""
    if cursor is None:
        return None
    c_at, c_rank, c_id = cursor
    if rank < c_rank:
        return at_col <= c_at
    if rank > c_rank:
        return at_col < c_at
    return or_(at_col < c_at, and_(at_col == c_at, id_col < c_id))


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


def _scope_filter(column, scope: Scope, viewer_id: int, learner_id: int | None):
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


def group_items(items: Iterable[FeedItem], circle_ids: set[int] | frozenset = frozenset()
                ) -> list[FeedItem | FeedGroup]:
    """Collapse the items of each bucket (``group_key``) into one :class:`FeedGroup` (module docstring).

    ``items`` may come in any order; units are returned newest first (by their
    newest item), items inside a group newest first. ``circle_ids`` are the
    viewer's circle peers (for "… in your circle"). Pure function: no database access.
    """
    buckets: dict[str, list[FeedItem]] = {}
    for item in sorted(items, key=lambda i: i.sort_key, reverse=True):
        buckets.setdefault(item.group_key or f"{item.kind}:{item.id}", []).append(item)
    units: list[FeedItem | FeedGroup] = []
    for key, run in buckets.items():
        if len(run) < (2 if key.startswith("circle_goal:") else MIN_GROUP):
            units.extend(run)
            continue
        actors = {i.actor.id: i.actor for i in run}
        kind = ("circle_goal" if key.startswith("circle_goal:")
                else "tier_up" if run[0].kind == "tier_up" else "activity")
        in_circle = len(actors) > 1 and bool(circle_ids) and all(a in circle_ids for a in actors)
        units.append(FeedGroup(run, run[0].actor if len(actors) == 1 else None, len(actors), kind, in_circle))
    units.sort(key=lambda u: u.sort_key, reverse=True)
    return units


def _cursor_key(cursor: tuple[datetime, int, int]) -> tuple:
    at, rank, ident = cursor
    return (at, rank, ident)


def feed_page(
    viewer_id: int,
    *,
    scope: Scope = "everyone",
    learner_id: int | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
    group: bool = True,
) -> FeedPage:
    """One page of a feed for ``viewer_id`` (§8.1, §8.3), newest first.

    Args:
        viewer_id: the signed-in learner (cheer state, "your circle", own items not cheerable).
        scope: ``"everyone"``, ``"following"`` or ``"profile"`` (then ``learner_id`` is required).
        before: the opaque cursor of the previous page's ``next_cursor``; None = newest.
        limit: units (items or groups) per page (1–50).
        now: the current UTC instant (tests); the window is ``FEED_DAYS`` days
            (``PROFILE_DAYS`` for a profile) before it.
        group: group the window's items into buckets (off for the profile page).

    Raises ``ValidationError`` for a malformed cursor, scope or limit.
    Privacy rules (module docstring) are applied in SQL, so hidden rows never leave the database.
    """
    if scope not in ("everyone", "following", "profile"):
        raise ValidationError(f"unknown feed scope {scope!r}")
    if scope == "profile" and learner_id is None:
        raise ValidationError("a profile feed needs a learner")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    now = as_utc(now) if now else utcnow()
    since = now - timedelta(days=PROFILE_DAYS if scope == "profile" else FEED_DAYS)
    cursor = decode_cursor(before) if before else None
    if group:
        # Group over the whole window, then page by unit (a group's position is its newest item).
        fetched = (_fetch_entries(since, None, scope, viewer_id, learner_id, MAX_WINDOW_ITEMS)
                   + _fetch_tier_ups(since, None, scope, viewer_id, learner_id, MAX_WINDOW_ITEMS))
        circle = circle_member_ids(viewer_id, now) if scope != "profile" else set()
        all_units = group_items(fetched, circle)
        if cursor is not None:
            all_units = [u for u in all_units if u.sort_key < _cursor_key(cursor)]
    else:
        fetched = (_fetch_entries(since, cursor, scope, viewer_id, learner_id, limit + 1)
                   + _fetch_tier_ups(since, cursor, scope, viewer_id, learner_id, limit + 1))
        fetched.sort(key=lambda i: i.sort_key, reverse=True)
        all_units = list(fetched)
    units = all_units[:limit]
    items = [i for u in units for i in (u.items if isinstance(u, FeedGroup) else [u])]
    next_cursor = encode_cursor(units[-1].head if isinstance(units[-1], FeedGroup) else units[-1]) \
        if len(all_units) > limit else None
    _annotate_cheers(items, viewer_id)
    return FeedPage(scope=scope, items=items, units=units, next_cursor=next_cursor, cursor=before)
