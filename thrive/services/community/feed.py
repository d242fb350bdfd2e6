"""The community feed: shared activity and tier-ups as human sentences, paged and grouped (§8.1, §8.3, §8.4).

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
- **Never point amounts**: items carry the activity type and a sentence built
  from it and the entry's ``metadata.topic`` — no points field exists on
  :class:`FeedItem`.
- Newest first (by ``occurred_at``; at equal instants a tier-up precedes the
  award that caused it, then higher ids first), ``PAGE_SIZE`` items a page,
  paged with an opaque cursor (``before``) so "load more" is a plain link.
- A learner who does not share their profile is named "A learner" and not linked.

The visibility rules themselves live in :mod:`thrive.services.community.visibility`.

**Grouping** (:func:`group_items`): walking a page newest first, an item joins
the current run when it has the same *group key* as the run's first item
(the activity type; ``tier_up:<tier key>`` for tier-ups) and happened within
``GROUP_WINDOW`` (24 hours) of it. A run of two or more items is shown as one
group: "Sarah completed 3 quizzes" when it is one learner, "3 people completed
a quiz" when several ("… in your circle" when they are all members of the
viewer's Thrive Circle this week). Groups never span pages; each item stays
inside its group (and can be cheered there).

Scopes: ``everyone`` (the community feed, last ``FEED_DAYS`` days),
``following`` (learners the viewer follows, same window, §8.3) and
``profile`` (one learner's shared activity, last ``PROFILE_DAYS`` days, §7).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, case, func, or_, select

from thrive.extensions import db
from thrive.models import Cheer, CircleMembership, Follow, Learner, LedgerEntry, ProgressionEvent
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
from thrive.timeutil import as_utc, platform_week, utcnow

PROFILE_DAYS = 30
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
GROUP_WINDOW = timedelta(hours=24)

#: Ordering rank at equal instants (higher first): a tier-up before its award.
_RANK = {"entry": 0, "tier_up": 1}

Scope = Literal["everyone", "following", "profile"]


@dataclass(frozen=True)
class Phrase:
    """How an activity type reads in the feed.

    ``one``: "completed a quiz"; ``many``: "completed {n} quizzes" (one learner,
    several items); ``topic``: whether ``metadata.topic`` is appended ("… on DDD").
    """

    one: str
    many: str
    topic: bool = False


#: activity type → phrase (§4.2 defaults); unknown types fall back to the rule label.
PHRASES: dict[str, Phrase] = {
    "quiz_completed": Phrase("completed a quiz", "completed {n} quizzes", topic=True),
    "project_created": Phrase("created a project", "created {n} projects", topic=True),
    "project_updated": Phrase("updated a project", "updated {n} projects", topic=True),
    "project_published": Phrase("published a project", "published {n} projects", topic=True),
    "comment_posted": Phrase("joined a discussion", "joined {n} discussions", topic=True),
    "feedback_given": Phrase("gave a peer feedback", "gave feedback {n} times", topic=True),
    "streak_bonus": Phrase("kept their streak going", "kept their streak going {n} days running"),
    "weekly_goal_completed": Phrase("completed a weekly goal", "completed {n} weekly goals"),
    "circle_goal_completed": Phrase("helped their circle reach its goal", "helped their circle reach {n} goals"),
    "side_quest_completed": Phrase("completed a side quest", "completed {n} side quests", topic=True),
    "battle_participated": Phrase("took part in a battle", "took part in {n} battles", topic=True),
    "battle_won": Phrase("won a battle", "won {n} battles", topic=True),
    "weekly_challenge_completed": Phrase("completed the weekly challenge", "completed {n} weekly challenges"),
    "event_attended": Phrase("attended an event", "attended {n} events", topic=True),
    "scavenger_hunt_completed": Phrase("finished a scavenger hunt", "finished {n} scavenger hunts", topic=True),
    "referral_converted": Phrase("brought a friend to the community", "brought {n} friends to the community"),
    "profile_completed": Phrase("completed their profile", "completed their profile"),
    "onboarding_completed": Phrase("finished onboarding", "finished onboarding"),
    "achievement_earned": Phrase("earned an achievement", "earned {n} achievements"),
    "special_event": Phrase("took part in a special event", "took part in {n} special events", topic=True),
}

MAX_TOPIC_CHARS = 60


@dataclass(frozen=True)
class Actor:
    """A learner as others see them: ``name`` is "A learner" unless they share their profile."""

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

    ``predicate`` is the sentence after the learner's name ("completed a quiz
    on DDD", "reached Spark!"); ``occurred_at`` a UTC instant. There is no
    points field, on purpose (§1.3). ``cheers`` counts cheers received,
    ``cheered`` is whether the viewer cheered it, ``can_cheer`` is false for
    the viewer's own items.
    """

    kind: str
    id: int
    actor: Actor
    occurred_at: datetime
    activity_type: str | None
    predicate: str
    group_key: str
    group_phrase: Phrase
    tier: TierSnapshot | None = None
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
    """Two or more consecutive similar items shown as one (see the module docstring).

    ``headline`` is the sentence ("3 people completed a quiz"); ``actor`` is
    set when every item is from the same learner (then the template puts
    their name first: "Sarah completed 3 quizzes").
    """

    items: list[FeedItem]
    headline: str
    actor: Actor | None
    in_circle: bool = False

    @property
    def occurred_at(self) -> datetime:
        return self.items[0].occurred_at

    @property
    def dom_id(self) -> str:
        return f"feed-group-{self.items[0].dom_id[5:]}"


@dataclass
class FeedPage:
    """One page of a feed: ``units`` (items and groups, newest first) and the cursor of the next page."""

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


# --- sentences ---------------------------------------------------------------

def _topic(meta: dict | None) -> str | None:
    value = (meta or {}).get("topic")
    if isinstance(value, str):
        value = " ".join(value.split())
        if value:
            return value[:MAX_TOPIC_CHARS]
    return None


def phrase_for(activity_type: str) -> Phrase:
    """The :class:`Phrase` of an activity type; unknown (runtime-added) types use the rule label."""
    known = PHRASES.get(activity_type)
    if known:
        return known
    rule = load_registry().rules.get(activity_type)
    label = (rule.label if rule else activity_type.replace("_", " ")).strip()
    label = label[:1].lower() + label[1:]
    return Phrase(f"took part: {label}", f"took part {{n}} times: {label}")


def entry_predicate(activity_type: str, meta: dict | None) -> str:
    """The sentence after the name for one activity ("completed a quiz on DDD"); never an amount."""
    phrase = phrase_for(activity_type)
    topic = _topic(meta) if phrase.topic else None
    return f"{phrase.one} on {topic}" if topic else phrase.one


def tier_predicate(tier: TierSnapshot) -> str:
    return f"reached {tier.name}! {tier.emoji}".strip()


# --- queries -----------------------------------------------------------------

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
        .where(LedgerEntry.occurred_at >= since, entry_feed_visible_sql(LedgerEntry, Learner))
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
            predicate=entry_predicate(activity_type, meta), group_key=activity_type,
            group_phrase=phrase_for(activity_type), can_cheer=lid != viewer_id,
        ))
    return items


def _fetch_tier_ups(since, cursor, scope, viewer_id, learner_id, limit) -> list[FeedItem]:
    registry = load_registry()
    q = (
        select(ProgressionEvent.id, ProgressionEvent.to_value, ProgressionEvent.occurred_at,
               Learner.id, Learner.username, Learner.display_name, Learner.share_profile)
        .join(Learner, Learner.id == ProgressionEvent.learner_id)
        .where(ProgressionEvent.occurred_at >= since, tier_up_feed_visible_sql(ProgressionEvent, Learner))
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
            occurred_at=as_utc(occurred_at), activity_type=None, predicate=tier_predicate(tier),
            group_key=f"tier_up:{tier.key}",
            group_phrase=Phrase(tier_predicate(tier), tier_predicate(tier)), tier=tier,
            can_cheer=lid != viewer_id,
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


def _plural_people(n: int) -> str:
    return f"{n} people" if n != 1 else "1 person"


def group_items(items: Iterable[FeedItem], circle_ids: set[int] | frozenset = frozenset()
                ) -> list[FeedItem | FeedGroup]:
    """Collapse runs of similar consecutive items into :class:`FeedGroup` s (rule in the module docstring).

    ``items`` must be newest first; ``circle_ids`` are the viewer's circle
    peers (for "… in your circle"). Pure function: no database access.
    """
    runs: list[list[FeedItem]] = []
    for item in items:
        if runs:
            head = runs[-1][0]
            if item.group_key == head.group_key and head.occurred_at - item.occurred_at <= GROUP_WINDOW:
                runs[-1].append(item)
                continue
        runs.append([item])
    units: list[FeedItem | FeedGroup] = []
    for run in runs:
        if len(run) == 1:
            units.append(run[0])
            continue
        phrase = run[0].group_phrase
        actors = {i.actor.id: i.actor for i in run}
        if len(actors) == 1:
            actor = run[0].actor
            headline = phrase.many.format(n=len(run))
            units.append(FeedGroup(run, headline, actor))
        else:
            in_circle = bool(circle_ids) and all(a in circle_ids for a in actors)
            where = " in your circle" if in_circle else ""
            headline = f"{_plural_people(len(actors))}{where} {phrase.one}"
            units.append(FeedGroup(run, headline, None, in_circle))
    return units


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
        limit: items per page (1–50).
        now: the current UTC instant (tests); the window is ``FEED_DAYS`` days
            (``PROFILE_DAYS`` for a profile) before it.
        group: collapse similar consecutive items (off for the profile page).

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
    fetched = (_fetch_entries(since, cursor, scope, viewer_id, learner_id, limit + 1)
               + _fetch_tier_ups(since, cursor, scope, viewer_id, learner_id, limit + 1))
    fetched.sort(key=lambda i: i.sort_key, reverse=True)
    items = fetched[:limit]
    next_cursor = encode_cursor(items[-1]) if len(fetched) > limit else None
    _annotate_cheers(items, viewer_id)
    if group:
        circle = circle_member_ids(viewer_id, now) if scope != "profile" else set()
        units = group_items(items, circle)
    else:
        units = list(items)
    return FeedPage(scope=scope, items=items, units=units, next_cursor=next_cursor, cursor=before)
