"""Community: stats of the week, cheers and public profiles (§7, §8.1, §8.4).

- :func:`weekly_stats` — aggregates only (§1.3): points earned together this
  platform ISO week, tier upgrades celebrated (learners who share tier
  upgrades), active learners, a friendly message.
- :func:`cheer` — a learner cheers a feed item: one ``reaction_given`` award
  for the cheerer through ``award()`` (event key ``cheer:<cheerer>:<kind>:<id>``)
  and a :class:`Cheer` row, written in the same transaction by an award hook.
  Anti-farming (§8.1): the amount diminishes for repeated cheers between the
  same two people — within 24 hours, the first cheer of a recipient earns the
  rule's base points (2), the second half of it rounded down (1), any further
  cheer 0 — and the rule's daily cap (20 a day) still applies on top.
- :func:`public_profile` — what another learner may see of a learner (§7, §8.4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from thrive.extensions import db
from thrive.models import Cheer, Follow, Learner, LearnerState, LedgerEntry, ProgressionEvent
from thrive.services.community.feed import FeedPage, feed_page, not_hidden
from thrive.services.community.visibility import (
    counts_in_tier_stats_sql,
    entry_feed_visible_sql,
    learner_public_name,
    profile_public_sql,
    shown_aggregate,
    tier_up_feed_visible_sql,
    within_feed_window,
)
from thrive.services.errors import Conflict, NotFound, ThriveError, ValidationError
from thrive.services.points.award import AwardContext, award, register_award_hook
from thrive.services.points.registry import TierSnapshot, load_registry
from thrive.services.progression.state import effective_streak
from thrive.timeutil import as_utc, local_date, platform_week, utcnow, week_start_instant

#: "Points together" is shown only when at least this many learners are active this week.
MIN_AGGREGATE_LEARNERS = 3
CHEER_ACTIVITY = "reaction_given"
CHEER_REPEAT_WINDOW = timedelta(hours=24)
CHEER_KINDS = ("entry", "tier_up")
_CHEER_RETRIES = 3
PROFILE_PAGE_SIZE = 10


# --- weekly stats ------------------------------------------------------------

@dataclass(frozen=True)
class CommunityStats:
    """This week's community aggregates (§7): never one learner's amount.

    ``points_together``: net points of all learners active this week (points),
    or None while fewer than ``MIN_AGGREGATE_LEARNERS`` are active (an
    "aggregate" of one or two people would reveal their amounts, §1.3);
    ``tier_ups``: tier-up events this week of learners who share tier upgrades;
    ``active_learners``: learners with a positive award this week;
    ``week``: platform ISO week label; ``message``: a friendly line.
    """

    week: str
    points_together: int | None
    tier_ups: int
    active_learners: int
    message: str


def friendly_message(active: int, tier_ups: int, week: str) -> str:
    """A warm, non-comparative line for the stats panel."""
    if active == 0:
        return "A quiet start to the week — your first step could spark the whole community."
    if active == 1:
        return "One learner has already shown up this week. Join them!"
    if tier_ups:
        return "New tiers reached this week — cheer on the people in the feed!"
    lines = (
        "Every bit of participation counts. Keep showing up!",
        "Learning is better together — say hi in the feed.",
        "Small steps, every day, add up. You're part of something.",
    )
    return lines[int(week[-2:]) % len(lines)]


def _compute_stats(now: datetime) -> CommunityStats:
    week = platform_week(now)
    start = week_start_instant(week)
    # learner_states holds each learner's points for its ``weekly_week`` (§4.4);
    # ``last_award_at`` (indexed) narrows the scan to learners active this week.
    points, active = db.session.execute(
        select(
            func.coalesce(func.sum(LearnerState.weekly_points).filter(LearnerState.weekly_week == week), 0),
            func.count(LearnerState.learner_id),
        ).join(Learner, Learner.id == LearnerState.learner_id)
        .where(LearnerState.last_award_at >= start, Learner.is_learner.is_(True))  # staff excluded (§11)
    ).one()
    tier_ups = db.session.scalar(
        select(func.count(ProgressionEvent.id))
        .join(Learner, Learner.id == ProgressionEvent.learner_id)
        .where(ProgressionEvent.kind == "tier_up", ProgressionEvent.occurred_at >= start,
               counts_in_tier_stats_sql(Learner))
    ) or 0
    active = int(active)
    shown = shown_aggregate(int(points), active)  # rounded to 50, None under 3 learners (§1.3)
    return CommunityStats(week, shown, int(tier_ups), active, friendly_message(active, tier_ups, week))


def weekly_stats(now: datetime | None = None) -> CommunityStats:
    """Community stats for the current platform ISO week (§7).

    Cached per app for ``THRIVE_COMMUNITY_STATS_CACHE_SECONDS`` (default 30;
    the panel polls every 60 s) so the community page stays cheap with 100k
    learners; ``now`` (a UTC instant, tests) bypasses the cache.
    """
    if now is not None:
        return _compute_stats(as_utc(now))
    ttl = current_app.config.get("THRIVE_COMMUNITY_STATS_CACHE_SECONDS", 30)
    current = utcnow()
    if not ttl:
        return _compute_stats(current)
    cache = current_app.extensions.get("thrive_community_stats")
    if cache is None or cache.ttl != ttl:
        cache = current_app.extensions["thrive_community_stats"] = TTLCache(4, ttl)
    week = platform_week(current)
    stats = cache.get(week)  # keyed by week: a new week is never answered from the last one
    if stats is None:
        stats = cache[week] = _compute_stats(current)
    return stats


# --- cheers ------------------------------------------------------------------

@dataclass(frozen=True)
class CheerResult:
    """Outcome of :func:`cheer`: ``points_awarded`` to the cheerer (0 when diminished or capped)."""

    cheer_id: int
    recipient_id: int
    recipient_name: str
    points_awarded: int
    capped: bool
    cheers: int


class CheerRaced(Exception):
    """Internal: another cheer between the same two people committed first; recompute and retry."""


def cheer_points(base_points: int, prior_cheers: int) -> int:
    """Points for a cheer given ``prior_cheers`` by the same cheerer to the same recipient in the last 24 h.

    First: ``base_points``; second: half of it, rounded down; later: 0 (§8.1 anti-farming).
    """
    if prior_cheers <= 0:
        return max(base_points, 0)
    if prior_cheers == 1:
        return max(base_points, 0) // 2
    return 0


def cheer_event_key(cheerer_id: int, target_kind: str, target_id: int) -> str:
    """Idempotency key of the cheerer's ``reaction_given`` award for one feed item (§4.3)."""
    return f"cheer:{cheerer_id}:{target_kind}:{target_id}"


def _prior_cheers(session, cheerer_id: int, recipient_id: int, at: datetime) -> int:
    return session.scalar(
        select(func.count(Cheer.id)).where(
            Cheer.cheerer_id == cheerer_id, Cheer.recipient_id == recipient_id,
            # no upper bound: a concurrent cheer stamped a moment after ``at`` must count too
            Cheer.created_at > at - CHEER_REPEAT_WINDOW,
        )
    ) or 0


def cheer_target(target_kind: str, target_id: int, now: datetime | None = None) -> Learner:
    """The learner behind a cheerable feed item; raises ``NotFound`` if it is not visible in feeds.

    Cheerable means feed-visible (:mod:`thrive.services.community.visibility`)
    and inside the feed's window (the last ``FEED_DAYS`` days before ``now``,
    a UTC instant): an older entry is in no feed, and cheering it would reveal
    its owner's name (§8.1, §8.4). Items hidden by a moderator refuse cheers (§11).
    """
    now = as_utc(now) if now else utcnow()
    if target_kind == "entry":
        row = db.session.execute(
            select(Learner).join(LedgerEntry, LedgerEntry.learner_id == Learner.id).where(
                LedgerEntry.id == target_id, entry_feed_visible_sql(LedgerEntry, Learner),
                within_feed_window(LedgerEntry.occurred_at, now),
                not_hidden("entry", LedgerEntry.id),  # a hidden item refuses cheers (§11 moderation)
            )
        ).scalar_one_or_none()
    elif target_kind == "tier_up":
        row = db.session.execute(
            select(Learner).join(ProgressionEvent, ProgressionEvent.learner_id == Learner.id).where(
                ProgressionEvent.id == target_id, tier_up_feed_visible_sql(ProgressionEvent, Learner),
                within_feed_window(ProgressionEvent.occurred_at, now),
                not_hidden("tier_up", ProgressionEvent.id),  # a hidden item refuses cheers (§11 moderation)
            )
        ).scalar_one_or_none()
    else:
        raise ValidationError("target kind must be 'entry' or 'tier_up'", code="invalid_target")
    if row is None:
        raise NotFound("that feed item does not exist or is not shared", code="not_found")
    return row


def cheer(cheerer_id: int, target_kind: str, target_id: int, *, now: datetime | None = None) -> CheerResult:
    """Cheer a feed item (§8.1): award ``reaction_given`` to the cheerer and record the cheer, atomically.

    Args:
        cheerer_id: the learner cheering.
        target_kind: ``"entry"`` (ledger entry id) or ``"tier_up"`` (progression event id).
        target_id: the item's id.
        now: the current UTC instant (tests).

    Returns a :class:`CheerResult`; ``points_awarded`` follows
    :func:`cheer_points` and is 0 (with ``capped``) over the daily cap.

    Raises:
        ValidationError: bad kind, or cheering your own item (``cannot_cheer_self``).
        NotFound: no such visible item.
        Conflict: the cheerer already cheered this item (``already_cheered``; one cheer per item).
    """
    if target_kind not in CHEER_KINDS:
        raise ValidationError("target kind must be 'entry' or 'tier_up'", code="invalid_target")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or target_id <= 0:
        raise ValidationError("target id must be a positive integer", code="invalid_target")
    recipient = cheer_target(target_kind, target_id, now)
    recipient_id = recipient.id
    recipient_name = learner_public_name(recipient)
    if recipient_id == cheerer_id:
        raise ValidationError("you cannot cheer your own activity", code="cannot_cheer_self")
    already = Conflict("you already cheered this", code="already_cheered")
    key = cheer_event_key(cheerer_id, target_kind, target_id)
    base = load_registry().rules[CHEER_ACTIVITY].base_points
    try:
        for attempt in Retrying(stop=stop_after_attempt(_CHEER_RETRIES), retry=retry_if_exception_type(CheerRaced),
                                reraise=True):
            with attempt:
                at = as_utc(now) if now else utcnow()
                if db.session.scalar(select(Cheer.id).where(Cheer.cheerer_id == cheerer_id,
                                                            Cheer.target_kind == target_kind,
                                                            Cheer.target_id == target_id)):
                    db.session.commit()
                    raise already
                planned = cheer_points(base, _prior_cheers(db.session, cheerer_id, recipient_id, at))
                db.session.commit()
                try:
                    result = award(
                        cheerer_id, CHEER_ACTIVITY, event_key=key, occurred_at=at, points=planned,
                        metadata={"cheer": {"kind": target_kind, "id": target_id, "recipient": recipient_id}},
                        now=at,
                    )
                except IntegrityError:
                    raise already from None
                except ThriveError as exc:
                    if exc.code == "event_key_conflict":
                        raise already from None
                    raise
                if result.duplicate:
                    raise already
                cheer_row = db.session.scalar(select(Cheer).where(Cheer.cheerer_id == cheerer_id,
                                                                  Cheer.target_kind == target_kind,
                                                                  Cheer.target_id == target_id))
                cheers = cheer_count(target_kind, target_id)
                db.session.commit()
                return CheerResult(cheer_row.id, recipient_id, recipient_name, result.points_awarded,
                                   result.capped, cheers)
    except CheerRaced:  # still racing after every retry (tenacity re-raises the last one)
        pass
    raise Conflict("too many cheers at once; please try again", code="cheer_busy")


def cheer_count(target_kind: str, target_id: int) -> int:
    """How many cheers a feed item has received."""
    return db.session.scalar(select(func.count(Cheer.id)).where(Cheer.target_kind == target_kind,
                                                                 Cheer.target_id == target_id)) or 0


@register_award_hook(applies=lambda _tx, entry: entry.activity_type == CHEER_ACTIVITY
                     and entry.event_key.startswith("cheer:"))
def _record_cheer(ctx: AwardContext) -> None:
    """Award hook: write the :class:`Cheer` row inside the cheerer's award transaction.

    Runs under the cheerer's state lock, so the diminishing amount is checked
    against cheers committed by concurrent requests; a stale amount raises
    :class:`CheerRaced` (the award rolls back and :func:`cheer` retries).
    """
    entry = ctx.entry
    if entry.activity_type != CHEER_ACTIVITY or not entry.event_key.startswith("cheer:"):
        return
    info = (entry.meta or {}).get("cheer")
    if not isinstance(info, dict):
        return
    recipient_id = int(info["recipient"])
    at = as_utc(entry.occurred_at)
    if not entry.capped:
        expected = cheer_points(ctx.rule.base_points, _prior_cheers(ctx.session, ctx.learner_id, recipient_id, at))
        if entry.points != expected:
            raise CheerRaced()
    ctx.session.add(Cheer(cheerer_id=ctx.learner_id, recipient_id=recipient_id, target_kind=str(info["kind"]),
                          target_id=int(info["id"]), points_awarded=entry.points, created_at=at))
    ctx.session.flush()


# --- public profiles -----------------------------------------------------------

@dataclass
class Profile:
    """A learner's public profile (§7): tier, level, streak, shared recent activity — never points.

    ``activity`` (a feed page of ``PROFILE_PAGE_SIZE`` items) is None when the
    learner does not share activities.
    ``is_owner`` when the viewer looks at their own profile (they can see it
    even with "share profile" off; ``is_public`` tells them whether others can).
    """

    learner_id: int
    username: str
    display_name: str
    tier: TierSnapshot
    level: int
    current_streak: int
    topics: list[str]
    followers: int
    following: int
    is_following: bool
    is_owner: bool
    is_public: bool
    activity: FeedPage | None


def visible_learner(username: str, viewer_id: int) -> Learner:
    """The learner named ``username`` if ``viewer_id`` may see their profile, else ``NotFound``.

    Others may see a profile only when it is shared (§8.4) and the account is
    active; the owner always sees their own. Missing and private profiles
    answer alike (no existence leak).
    """
    learner = db.session.scalar(select(Learner).where(func.lower(Learner.username) == (username or "").lower(),
                                                      or_(Learner.id == viewer_id, profile_public_sql(Learner))))
    if learner is None:
        raise NotFound("This profile is not available.", code="not_found")
    return learner


def public_profile(username: str, viewer_id: int, *, before: str | None = None,
                   now: datetime | None = None) -> Profile:
    """Build the :class:`Profile` of ``username`` as ``viewer_id`` sees it (§7, §8.4).

    ``before`` pages the shared recent activity (a feed cursor). The activity is
    None when the learner does not share activities — for the owner too, who
    sees exactly what others see. Raises ``NotFound`` (private or missing
    profile) and ``ValidationError`` (bad cursor).
    """
    now = as_utc(now) if now else utcnow()
    learner = visible_learner(username, viewer_id)
    state = learner.state
    registry = load_registry()
    streak = effective_streak(state, local_date(now, learner.timezone))
    followers = db.session.scalar(select(func.count()).select_from(Follow).where(Follow.followed_id == learner.id))
    following = db.session.scalar(select(func.count()).select_from(Follow).where(Follow.follower_id == learner.id))
    is_following = viewer_id != learner.id and db.session.scalar(
        select(Follow.follower_id).where(Follow.follower_id == viewer_id, Follow.followed_id == learner.id)
    ) is not None
    activity = None
    if learner.share_activities:
        activity = feed_page(viewer_id, scope="profile", learner_id=learner.id, before=before, now=now,
                             group=False, limit=PROFILE_PAGE_SIZE)
    return Profile(
        learner_id=learner.id, username=learner.username, display_name=learner.display_name,
        tier=registry.tier(state.tier_key), level=state.level, current_streak=streak.current,
        topics=learner.topics, followers=followers or 0, following=following or 0, is_following=is_following,
        is_owner=learner.id == viewer_id, is_public=learner.share_profile, activity=activity,
    )
