"""The community feed's data: actors, items, groups, pages and the "load more" cursor (§8.1, §8.4).

Plain data, no database access: :mod:`thrive.services.community.feed` builds
these from :mod:`thrive.services.community.feed_queries`. No points field
exists on any of them, on purpose (§1.3).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import and_, or_

from thrive.services.community.visibility import public_name, public_username
from thrive.services.errors import ValidationError
from thrive.services.points.registry import TierSnapshot
from thrive.timeutil import as_utc

#: Ordering rank at equal instants (higher first): a tier-up before its award.
_RANK = {"entry": 0, "tier_up": 1}
#: Items of a group listed (and cheerable) under its headline, newest first: with 100k learners one
#: bucket ("completed a quiz" today) holds thousands of items, and the headline counts them all. The
#: smallest group (MIN_GROUP, 3) is listed whole; rendering an item with its cheer and report forms is
#: most of a feed page's cost.
GROUP_ITEMS_SHOWN = 3


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

    @cached_property
    def dom_id(self) -> str:
        """The item's HTML id (read ~10 times per rendered item: computed once)."""
        return f"feed-{self.kind.replace('_', '-')}-{self.id}"


@dataclass
class FeedGroup:
    """Two or more items of one bucket shown as one unit (see the module docstring).

    ``actor`` is set when every item is from the same learner ("Sarah completed
    3 quizzes"); ``people`` counts distinct learners; ``in_circle`` is true when
    they are all the viewer's circle peers; ``kind`` is ``"circle_goal"``,
    ``"tier_up"`` or ``"activity"``. ``items`` holds every item of the bucket
    (``count`` counts them); :attr:`shown_items` are the newest
    :data:`GROUP_ITEMS_SHOWN` of them, the ones a page lists (``shown`` when
    the feed set them for the viewer).
    """

    items: list[FeedItem]
    actor: Actor | None
    people: int
    kind: str
    in_circle: bool = False
    shown: list[FeedItem] | None = None

    @cached_property
    def actor_ids(self) -> frozenset[int]:
        """The distinct learners of :attr:`items` (computed once: a cached window's group is shared by requests)."""
        return frozenset(i.actor.id for i in self.items)

    @cached_property
    def positions(self) -> dict[int, tuple[int, ...]]:
        """Each learner's positions in :attr:`items` (computed once: a cached window's group is shared by requests,
        and a page marks the viewer's own items there without looking at thousands of others)."""
        out: dict[int, list[int]] = {}
        for n, item in enumerate(self.items):
            out.setdefault(item.actor.id, []).append(n)
        return {learner: tuple(found) for learner, found in out.items()}

    @property
    def shown_items(self) -> list[FeedItem]:
        return self.shown if self.shown is not None else self.items[:GROUP_ITEMS_SHOWN]

    @property
    def more(self) -> int:
        """Items of the group not listed on the page."""
        return max(self.count - len(self.shown_items), 0)

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


