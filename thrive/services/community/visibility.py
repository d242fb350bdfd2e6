"""Who and what others may see: the public-name rule and the feed-visibility predicate, written once (§8.1, §8.4).

Every page that shows a learner to *another* learner goes through this module —
the community feed, the circle panel, follows and followers lists, profiles,
discover, notifications, cheers and community stats — so the rules cannot drift
apart. Each rule exists twice, side by side: as a SQL expression (so hidden rows
never leave the database) and as a plain Python predicate over the same columns
(for rows already loaded). ``tests/services/community/test_visibility.py`` checks
that the two agree for every switch.

**Public name** (§8.4): another learner sees a learner's display name and may
follow the link to their profile only when the learner shares their profile
*and* the account is active (not deactivated, not erased); otherwise they are
:data:`ANONYMOUS_NAME` ("A learner"), with no link.

**Feed-visible** (§8.1, §8.4):

- a *ledger entry* is feed-visible when ``points > 0``, it is not capped, its
  activity type is not one of :data:`HIDDEN_ACTIVITY_TYPES`, and its learner
  shares activities and is active;
- a *tier-up* (progression event of kind ``tier_up``) is feed-visible when its
  learner shares tier upgrades *and* activities and is active;
- an item can be cheered only while it is feed-visible and inside the feed's
  :data:`FEED_DAYS` window (:func:`within_feed_window`).

**Community stats** count tier-ups of active learners who share tier upgrades
(:func:`counts_in_tier_stats_sql`): the stats are anonymous aggregates, so the
"share activities" switch does not remove a learner from them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, true

from thrive.models import Learner, LedgerEntry, ProgressionEvent

#: How a learner who does not share their profile (or is inactive) is named to others.
ANONYMOUS_NAME = "A learner"

#: Awards that never appear in feeds: the automatic daily visit (it would drown
#: everything else), cheers (a feed about cheering the feed) and admin
#: corrections (private by nature).
HIDDEN_ACTIVITY_TYPES = frozenset({"daily_login", "reaction_given", "admin_adjustment"})

#: The community and following feeds show the last this many days (§8.1).
FEED_DAYS = 7


# --- the public-name rule ------------------------------------------------------

def profile_public_sql(learner=Learner):
    """SQL: ``learner`` (the ``Learner`` entity or an alias) is shown by name to others."""
    return and_(learner.share_profile.is_(True), learner.is_active_account.is_(True),
                learner.is_learner.is_(True))  # staff are not learners unless flagged (§11)


def is_profile_public(share_profile: bool, active: bool) -> bool:
    """Python twin of :func:`profile_public_sql` over loaded column values."""
    return bool(share_profile) and bool(active)


def public_name(display_name: str, share_profile: bool, active: bool, *, is_viewer: bool = False) -> str:
    """The name another learner sees: ``display_name`` when the profile is public, else "A learner".

    ``is_viewer`` (the learner looking at themselves) always sees their own name.
    """
    return display_name if is_viewer or is_profile_public(share_profile, active) else ANONYMOUS_NAME


def public_username(username: str, share_profile: bool, active: bool) -> str | None:
    """The username to link to (``/u/<username>``), or None when the profile is not public."""
    return username if is_profile_public(share_profile, active) else None


def learner_public_name(learner: Learner | None, *, viewer_id: int | None = None) -> str:
    """:func:`public_name` for a loaded :class:`Learner` (None, e.g. an erased learner, is anonymous)."""
    if learner is None:
        return ANONYMOUS_NAME
    return public_name(learner.display_name, learner.share_profile, learner.is_active_account,
                       is_viewer=viewer_id is not None and learner.id == viewer_id)


def learner_public_username(learner: Learner | None) -> str | None:
    """:func:`public_username` for a loaded :class:`Learner` (None when missing)."""
    if learner is None:
        return None
    return public_username(learner.username, learner.share_profile, learner.is_active_account)


# --- the feed-visibility predicate ---------------------------------------------

def shares_activities_sql(learner=Learner):
    """SQL: the learner's activities may appear in feeds, circles and profiles (switch on, account active)."""
    return and_(learner.share_activities.is_(True), learner.is_active_account.is_(True),
                learner.is_learner.is_(True))  # staff are not learners unless flagged (§11)


def shares_activities(share_activities: bool, active: bool) -> bool:
    """Python twin of :func:`shares_activities_sql`."""
    return bool(share_activities) and bool(active)


def entry_feed_visible_sql(entry=LedgerEntry, learner=Learner):
    """SQL: a ledger entry is feed-visible (the caller joins ``learner`` on ``entry.learner_id``)."""
    return and_(entry_worth_showing_sql(entry), shares_activities_sql(learner))


def entry_worth_showing_sql(entry=LedgerEntry):
    """SQL: the entry's own part of the rule (points > 0, not capped, not a hidden type)."""
    return and_(entry.points > 0, entry.capped.is_(False),
                entry.activity_type.not_in(sorted(HIDDEN_ACTIVITY_TYPES)))


def entry_is_feed_visible(points: int, capped: bool, activity_type: str, share_activities: bool,
                          active: bool) -> bool:
    """Python twin of :func:`entry_feed_visible_sql` over loaded column values."""
    return (points > 0 and not capped and activity_type not in HIDDEN_ACTIVITY_TYPES
            and shares_activities(share_activities, active))


def tier_up_feed_visible_sql(event=ProgressionEvent, learner=Learner):
    """SQL: a progression event is a feed-visible tier-up (the caller joins ``learner``)."""
    return and_(event.kind == "tier_up", learner.share_tier_upgrades.is_(True), shares_activities_sql(learner))


def tier_up_is_feed_visible(kind: str, share_tier_upgrades: bool, share_activities: bool, active: bool) -> bool:
    """Python twin of :func:`tier_up_feed_visible_sql`."""
    return kind == "tier_up" and bool(share_tier_upgrades) and shares_activities(share_activities, active)


def counts_in_tier_stats_sql(learner=Learner):
    """SQL: the learner's tier-ups count in the community stats (shares tier upgrades, active)."""
    return and_(learner.share_tier_upgrades.is_(True), learner.is_active_account.is_(True),
                learner.is_learner.is_(True))  # staff are not learners unless flagged (§11)


def feed_since(now: datetime, days: int = FEED_DAYS) -> datetime:
    """The oldest instant (UTC) the feed shows: ``days`` before ``now``."""
    return now - timedelta(days=days)


def within_feed_window(occurred_at_col, now: datetime, days: int = FEED_DAYS):
    """SQL: ``occurred_at_col`` lies in the feed window ending at ``now`` (UTC instant)."""
    return occurred_at_col >= feed_since(now, days) if days else true()


# --- aggregates others can see -----------------------------------------------------

#: No aggregate of fewer contributors is shown (one or two people's sum is their own amount, §1.3).
MIN_AGGREGATE_CONTRIBUTORS = 3
#: Shown aggregates are rounded down to this many points, so differencing two readings of a
#: total before and after a peer's award cannot reveal that award (issue 10 defect 2).
AGGREGATE_STEP = 50


def shown_aggregate(total: int, contributors: int) -> int | None:
    """A points aggregate as others may see it: None under 3 contributors, else rounded down to 50 points."""
    if contributors < MIN_AGGREGATE_CONTRIBUTORS:
        return None
    return max(int(total), 0) // AGGREGATE_STEP * AGGREGATE_STEP


def shown_percent(total: int, target: int, contributors: int) -> int | None:
    """Progress towards ``target`` as a whole percentage (0–100) of the *rounded* aggregate; None when hidden."""
    shown = shown_aggregate(total, contributors)
    if shown is None:
        return None
    return 100 if target <= 0 else min(100, shown * 100 // target)
