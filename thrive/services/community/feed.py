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
cheered there): a page shows a group's headline, and its listed items are read
by :func:`feed_group` when the group is opened (issue 12). At most
:data:`MAX_WINDOW_ITEMS` newest items per source are read for a page.

Scopes: ``everyone`` (the community feed, last ``FEED_DAYS`` days),
``following`` (learners the viewer follows, same window, §8.3) and
``profile`` (one learner's shared activity, last ``PROFILE_DAYS`` days, §7; not grouped).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from cachetools import TTLCache
from flask import current_app

from thrive.services.community.feed_items import (  # noqa: F401  (re-exported: the feed's data types)
    _RANK,
    GROUP_ITEMS_SHOWN,
    Actor,
    FeedGroup,
    FeedItem,
    FeedPage,
    decode_cursor,
    encode_cursor,
)
from thrive.services.community.feed_queries import (  # noqa: F401  (re-exported: used by other read models)
    MAX_TOPIC_CHARS,
    _fetch_entries,
    _fetch_tier_ups,
    _topic,
    circle_member_ids,
    current_actors,
    not_hidden,
    page_state,
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
from thrive.timeutil import as_utc, utcnow

PROFILE_DAYS = 30
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
#: Smallest bucket shown as a group (a circle goal groups from two): two similar items read fine apart.
MIN_GROUP = 3
#: Most items read per source (entries, tier-ups) to group a feed window.
MAX_WINDOW_ITEMS = 5000

Scope = Literal["everyone", "following", "profile"]


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


def _window(scope: Scope, viewer_id: int, learner_id: int | None, since: datetime, now: datetime
            ) -> list[FeedItem | FeedGroup]:
    """Every unit of the window (grouped, newest first), read from the database."""
    fetched = (_fetch_entries(since, None, scope, viewer_id, learner_id, MAX_WINDOW_ITEMS)
               + _fetch_tier_ups(since, None, scope, viewer_id, learner_id, MAX_WINDOW_ITEMS))
    return group_items(fetched)


def _cached_everyone_window(now: datetime) -> list[FeedItem | FeedGroup] | None:
    """The Everyone window's units, the same for every viewer, cached per process; None when caching is off.

    ``THRIVE_FEED_CACHE_SECONDS`` (default 30; the feed polls every 60 s): new
    activity shows up to that late. Privacy and moderation stay exact: every
    request re-reads the shown learners' switches and names and the shown
    items' hidden state (:func:`_personalise`).
    """
    ttl = current_app.config.get("THRIVE_FEED_CACHE_SECONDS", 30)
    if not ttl:
        return None
    cache = current_app.extensions.get("thrive_feed_window")
    if cache is None or cache.ttl != ttl:
        cache = current_app.extensions["thrive_feed_window"] = TTLCache(2, ttl)
    units = cache.get("everyone")
    if units is None:
        # viewer 0 (nobody): can_cheer is set per viewer by _personalise
        units = cache["everyone"] = _window("everyone", 0, None, now - timedelta(days=FEED_DAYS), now)
    return units


def invalidate_feed_cache() -> None:
    """Forget this process's cached Everyone window (the next page reads it again)."""
    cache = current_app.extensions.get("thrive_feed_window")
    if cache is not None:
        cache.clear()


def _with(obj, **changes):
    """A copy of a :class:`FeedItem` or :class:`FeedGroup` with ``changes``: ``dataclasses.replace`` without
    running ``__init__`` again (a page copies ~80 of them; issue 12). Cached properties come along: they
    depend on fields (kind, id, items) the feed never changes in a copy."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__, **changes)
    return new


def _personalise(units: list[FeedItem | FeedGroup], viewer_id: int, circle: set[int], *, cached: bool
                 ) -> tuple[list[FeedItem | FeedGroup], list[FeedItem]]:
    """The page's units for ``viewer_id``: copies of the shown items with cheers, cheered and can_cheer set.

    Returns ``(units, items)``: every item of the units, the listed ones first
    within each group (a group lists :attr:`FeedGroup.shown_items`). Cached units are shared between viewers, so
    nothing in them is changed; for them the shown learners' current switches
    and names and the items' hidden state are read again (a learner who stopped
    sharing, or an item a moderator hid, leaves the page at once).
    """
    shown = [i for u in units for i in (u.shown_items if isinstance(u, FeedGroup) else [u])]
    # fresh items: every item of the page gets its cheers; cached ones: the listed items only
    rest = [] if cached else [i for u in units if isinstance(u, FeedGroup) for i in u.items[len(u.shown_items):]]
    cheers, gone = page_state(shown + rest, viewer_id)
    actors = current_actors({i.actor.id for i in shown}) if cached else {}

    def copy(item: FeedItem, listed: bool = True) -> FeedItem | None:
        if (item.kind, item.id) in gone:
            return None
        actor = item.actor
        if cached and listed:
            now_actor = actors.get(actor.id)
            if now_actor is None or not now_actor[1] or (item.kind == "tier_up" and not now_actor[2]):
                return None
            actor = now_actor[0]
        elif cached:  # not listed: left as read, but never cheerable by its own learner
            return item if actor.id != viewer_id else _with(item, can_cheer=False)
        count, mine = cheers.get((item.kind, item.id), (0, False))
        return _with(item, actor=actor, cheers=count, cheered=mine, can_cheer=actor.id != viewer_id)

    out: list[FeedItem | FeedGroup] = []
    items: list[FeedItem] = []
    for u in units:
        if isinstance(u, FeedGroup):
            kept = [c for c in (copy(i) for i in u.shown_items) if c is not None]
            if not kept:
                continue
            in_circle = bool(circle) and len(u.actor_ids) > 1 and all(a in circle for a in u.actor_ids)
            actor = kept[0].actor if u.actor is not None else None
            out.append(_with(u, actor=actor, in_circle=in_circle, shown=kept))
            items.extend(kept)
            listed = len(u.shown_items)
            rest_items = u.items[listed:]
            if cached and not gone:  # the common case, without a step per item (a group can hold thousands)
                start = len(items) - listed  # so that items[start + n] is u.items[n] for an unlisted n
                items.extend(rest_items)
                for n in u.positions.get(viewer_id, ()):  # the viewer's own: never cheerable
                    if n >= listed:
                        items[start + n] = _with(items[start + n], can_cheer=False)
            else:
                items.extend(c for c in (copy(i, False) for i in rest_items) if c is not None)
        else:
            c = copy(u)
            if c is not None:
                out.append(c)
                items.append(c)
    return out, items


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
        now: the current UTC instant (tests; bypasses the cache); the window is ``FEED_DAYS`` days
            (``PROFILE_DAYS`` for a profile) before it.
        group: group the window's items into buckets (off for the profile page).

    The Everyone window is cached per process (:func:`_cached_everyone_window`).
    Raises ``ValidationError`` for a malformed cursor, scope or limit.
    Privacy rules (module docstring) are applied in SQL, so hidden rows never leave the database.
    The page's ``items`` are every item of its units (a group lists only its :attr:`FeedGroup.shown_items`).
    """
    if scope not in ("everyone", "following", "profile"):
        raise ValidationError(f"unknown feed scope {scope!r}")
    if scope == "profile" and learner_id is None:
        raise ValidationError("a profile feed needs a learner")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    cached = None
    if scope == "everyone" and group and now is None:
        cached = _cached_everyone_window(utcnow())
    now = as_utc(now) if now else utcnow()
    since = now - timedelta(days=PROFILE_DAYS if scope == "profile" else FEED_DAYS)
    cursor = decode_cursor(before) if before else None
    if group:
        # Group over the whole window, then page by unit (a group's position is its newest item).
        all_units = cached if cached is not None else _window(scope, viewer_id, learner_id, since, now)
        if cursor is not None:
            all_units = [u for u in all_units if u.sort_key < _cursor_key(cursor)]
    else:
        fetched = (_fetch_entries(since, cursor, scope, viewer_id, learner_id, limit + 1)
                   + _fetch_tier_ups(since, cursor, scope, viewer_id, learner_id, limit + 1))
        fetched.sort(key=lambda i: i.sort_key, reverse=True)
        all_units = list(fetched)
    page_units = all_units[:limit]
    needs_circle = scope != "profile" and any(isinstance(u, FeedGroup) and u.people > 1 for u in page_units)
    circle = circle_member_ids(viewer_id, now) if needs_circle else set()
    units, items = _personalise(page_units, viewer_id, circle, cached=cached is not None)
    last = page_units[-1] if page_units else None
    next_cursor = encode_cursor(last.head if isinstance(last, FeedGroup) else last) \
        if len(all_units) > limit else None
    return FeedPage(scope=scope, items=items, units=units, next_cursor=next_cursor, cursor=before)


def feed_group(viewer_id: int, key: str, *, scope: Scope = "everyone", now: datetime | None = None
               ) -> FeedGroup | None:
    """The group of bucket ``key`` (a :attr:`FeedItem.group_key`, e.g. ``"quiz_completed:2026-12-02"``) in
    ``viewer_id``'s ``scope`` feed (``"everyone"`` or ``"following"``), its listed items set for the viewer.

    A feed page shows a group's headline only; its listed items are fetched by this when the group is opened
    (issue 12). The window is the one :func:`feed_page` reads (the cached Everyone window when caching is on)
    and the items go through the same :func:`_personalise`, so privacy and moderation are as exact as on a
    page. Returns None when the window holds no group of that key (it left the window, or too few items of
    it are still shown). Raises ``ValidationError`` for another scope.
    """
    if scope not in ("everyone", "following"):
        raise ValidationError(f"unknown feed scope {scope!r}")
    cached = _cached_everyone_window(utcnow()) if scope == "everyone" and now is None else None
    now = as_utc(now) if now else utcnow()
    units = cached if cached is not None else _window(scope, viewer_id, None, now - timedelta(days=FEED_DAYS), now)
    unit = next((u for u in units if isinstance(u, FeedGroup) and u.head.group_key == key), None)
    if unit is None:
        return None
    circle = circle_member_ids(viewer_id, now) if unit.people > 1 else set()
    shown, _items = _personalise([unit], viewer_id, circle, cached=cached is not None)
    return shown[0] if shown else None
