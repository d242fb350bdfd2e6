"""Follows (§8.3): follow/unfollow, followers and following lists, the ``new_follower`` notification.

Following needs the other learner's profile to be shared (one follows from
discover or a profile, §8.2); unfollowing always works, also for someone who
has since made their profile private. In lists and notifications a learner
who does not share their profile is "A learner" (§8.4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Follow, Learner, LearnerState
from thrive.services.community.visibility import ANONYMOUS_NAME, is_profile_public, public_name, public_username
from thrive.services.errors import NotFound, ValidationError
from thrive.services.notifications import sending as notifications
from thrive.services.paging import check_page, fetch_page
from thrive.services.points.registry import TierSnapshot, load_registry
from thrive.timeutil import as_utc, utcnow

LIST_PAGE_SIZE = 50
#: Title of a ``new_follower`` notification; ``{actor}`` is filled at display time (inbox).
NEW_FOLLOWER_TITLE = "{actor} started following you"


@dataclass(frozen=True)
class FollowResult:
    """``created`` is False when the follow already existed (idempotent)."""

    follower_id: int
    followed_id: int
    created: bool


@dataclass(frozen=True)
class Person:
    """A learner in a followers/following list, as others see them (no points).

    ``username`` is None (and ``name`` "A learner") when their profile is private.
    """

    id: int
    name: str
    username: str | None
    tier: TierSnapshot
    followed_at: datetime


@dataclass(frozen=True)
class PeoplePage:
    """One page of a list (newest follow first); ``has_more`` when another page exists."""

    people: list[Person]
    total: int
    page: int
    has_more: bool


def follow(follower_id: int, followed_id: int, *, now: datetime | None = None) -> FollowResult:
    """``follower_id`` follows ``followed_id`` and the latter is notified (§8.3, §9).

    The ``new_follower`` notification honours the followed learner's
    preferences and is de-duplicated per pair (``new_follower:<follower>:<followed>``),
    so unfollowing and following again does not notify twice.

    Raises ``ValidationError`` (``cannot_follow_self``) and ``NotFound`` when
    the followed learner does not exist, is inactive or does not share their profile.
    Following twice is a no-op (``created`` False).
    """
    if follower_id == followed_id:
        raise ValidationError("you cannot follow yourself", code="cannot_follow_self")
    now = as_utc(now) if now else utcnow()
    try:
        with write_transaction() as session:
            target = session.get(Learner, followed_id)
            if target is None or not is_profile_public(target.share_profile, target.is_active_account):
                raise NotFound("This profile is not available.", code="not_found")
            if session.get(Follow, (follower_id, followed_id)) is not None:
                return FollowResult(follower_id, followed_id, False)
            follower = session.get(Learner, follower_id)
            if follower is None:
                raise NotFound("unknown learner", code="unknown_user")
            session.add(Follow(follower_id=follower_id, followed_id=followed_id, created_at=now))
            # The follower's name is not stored: the inbox renders it at display
            # time through the visibility rules (it disappears if they go private).
            notifications.notify(
                session, followed_id, "new_follower", NEW_FOLLOWER_TITLE.format(actor=ANONYMOUS_NAME),
                prefs=target.notification_prefs, data={"actor_id": follower_id},
                dedupe_key=f"new_follower:{follower_id}:{followed_id}",
            )
            session.flush()
    except IntegrityError:
        # A concurrent request created the same follow first.
        db.session.rollback()
        return FollowResult(follower_id, followed_id, False)
    return FollowResult(follower_id, followed_id, True)


def unfollow(follower_id: int, followed_id: int) -> bool:
    """Stop following; True when a follow was removed (idempotent, §8.3)."""
    with write_transaction() as session:
        removed = session.execute(
            delete(Follow).where(Follow.follower_id == follower_id, Follow.followed_id == followed_id)
        ).rowcount
    return bool(removed)


def is_following(follower_id: int, followed_id: int) -> bool:
    """Whether ``follower_id`` follows ``followed_id``."""
    return db.session.get(Follow, (follower_id, followed_id)) is not None


def followed_among(follower_id: int, learner_ids: list[int]) -> set[int]:
    """The subset of ``learner_ids`` that ``follower_id`` follows (for follow buttons)."""
    if not learner_ids:
        return set()
    return set(db.session.scalars(
        select(Follow.followed_id).where(Follow.follower_id == follower_id, Follow.followed_id.in_(learner_ids))
    ))


def _people(direction: str, learner_id: int, page: int) -> PeoplePage:
    check_page(page, LIST_PAGE_SIZE)
    if direction == "followers":
        other, me = Follow.follower_id, Follow.followed_id
    else:
        other, me = Follow.followed_id, Follow.follower_id
    total = db.session.scalar(select(func.count()).select_from(Follow).where(me == learner_id)) or 0
    result = fetch_page(
        select(Learner.id, Learner.username, Learner.display_name, Learner.share_profile, Learner.is_active_account,
               LearnerState.tier_key, Follow.created_at)
        .join(Learner, Learner.id == other)
        .join(LearnerState, LearnerState.learner_id == Learner.id)
        .where(me == learner_id)
        .order_by(Follow.created_at.desc(), other.desc()),
        page, LIST_PAGE_SIZE)
    registry = load_registry()
    people = []
    for lid, username, display_name, share_profile, active, tier_key, created_at in result.rows:
        people.append(Person(lid, public_name(display_name, share_profile, active),
                             public_username(username, share_profile, active),
                             registry.tier(tier_key), as_utc(created_at)))
    return PeoplePage(people, total, page, result.has_next)


def followers(learner_id: int, page: int = 1) -> PeoplePage:
    """Who follows ``learner_id``, newest first (§8.3)."""
    return _people("followers", learner_id, page)


def following(learner_id: int, page: int = 1) -> PeoplePage:
    """Whom ``learner_id`` follows, newest first (§8.3)."""
    return _people("following", learner_id, page)
