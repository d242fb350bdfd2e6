"""Onboarding (§7, issue 11): how points are earned, and a first-run checklist that pays once.

The checklist has four steps — complete your profile, follow someone, cheer
someone, meet your circle — read from the learner's own data:

- *profile*: display name, a time zone other than the UTC default and at least
  one topic; when complete Thrive awards ``profile_completed`` (event key
  ``profile_completed:<learner id>``, once: the rule's ``max_ever`` is 1);
- *follow*: the learner follows someone; *cheer*: they have cheered a feed item;
- *circle*: they have been placed in a Thrive Circle (any week).

When every step is done Thrive awards ``onboarding_completed`` once (event key
``onboarding_completed:<learner id>``) and the checklist disappears for good. The
ledger is append-only, so "finished" never turns false again: each app keeps the ids of
learners seen finished (a bounded LRU set) and skips the checklist query for them
(issue 12: one statement fewer on most home pages).
Awards go through :func:`~thrive.services.points.award.award` (§4.1); a
disabled rule simply pays nothing.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from cachetools import LRUCache
from flask import current_app
from sqlalchemy import bindparam, select

from thrive.extensions import db
from thrive.models import Cheer, CircleMembership, Follow, LedgerEntry
from thrive.services.errors import ThriveError
from thrive.services.points.registry import RuleSnapshot, load_registry

STEPS = ("profile", "follow", "cheer", "circle")
#: Activity types the "how points are earned" card leaves out: automatic or staff-only.
NOT_EXPLAINED = frozenset({"admin_adjustment", "special_event", "achievement_earned", "onboarding_completed"})


@dataclass(frozen=True)
class Onboarding:
    """``done`` maps each step of :data:`STEPS` to True/False; ``completed`` once the final award exists."""

    done: dict[str, bool]
    completed: bool

    @property
    def remaining(self) -> int:
        return sum(1 for v in self.done.values() if not v)


def profile_complete(learner) -> bool:
    """Display name, a chosen time zone (not the UTC default) and at least one topic."""
    return bool((learner.display_name or "").strip()) and learner.timezone not in (None, "", "UTC") \
        and bool(learner.topics)


def _award_exists(learner_id: int, activity_type: str):
    """SQL: the learner has an entry of ``activity_type``."""
    return select(LedgerEntry.id).where(LedgerEntry.learner_id == learner_id,
                                        LedgerEntry.activity_type == activity_type).exists()


def _has_award(learner_id: int, activity_type: str) -> bool:
    return db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.learner_id == learner_id,
                                                          LedgerEntry.activity_type == activity_type).limit(1)) \
        is not None


def _award_once(learner_id: int, activity_type: str, now: datetime | None) -> None:
    from thrive.services.points.award import award

    try:
        award(learner_id, activity_type, event_key=f"{activity_type}:{learner_id}", now=now)
    except ThriveError:
        pass  # a disabled or capped rule pays nothing; the checklist still moves on


def check_profile(learner, now: datetime | None = None) -> bool:
    """Award ``profile_completed`` once when the profile is complete; returns whether it is."""
    complete = profile_complete(learner)
    if complete and not _has_award(learner.id, "profile_completed"):
        _award_once(learner.id, "profile_completed", now)
    return complete


@cache
def _checklist_statement():
    """The checklist's five ``EXISTS`` in one statement, built once (bound parameter ``learner_id``)."""
    lid = bindparam("learner_id")
    return select(
        _award_exists(lid, "onboarding_completed"),
        _award_exists(lid, "profile_completed"),
        select(Follow.follower_id).where(Follow.follower_id == lid).exists(),
        select(Cheer.id).where(Cheer.cheerer_id == lid).exists(),
        select(CircleMembership.id).where(CircleMembership.learner_id == lid).exists(),
    )


#: Learner ids an app remembers as finished (about 8 MB at most); older ones are simply read again.
FINISHED_CACHE_SIZE = 100_000
_finished_lock = threading.Lock()


def _finished() -> LRUCache:
    """This app's set of learners seen with ``onboarding_completed`` (an LRU cache of id → True)."""
    extensions = current_app.extensions
    finished = extensions.get("thrive.onboarding_finished")
    if finished is None:
        finished = extensions.setdefault("thrive.onboarding_finished", LRUCache(maxsize=FINISHED_CACHE_SIZE))
    return finished


def _remember_finished(learner_id: int) -> None:
    with _finished_lock:
        _finished()[learner_id] = True


def onboarding(learner, now: datetime | None = None) -> Onboarding:
    """The learner's checklist, awarding ``profile_completed`` / ``onboarding_completed`` when due.

    One query reads the final award and the follow / cheer / circle steps together;
    none for a learner this app has already seen finished (the award is never undone).
    """
    lid = learner.id
    with _finished_lock:
        known = _finished().get(lid, False)
    if known:
        return Onboarding({s: True for s in STEPS}, True)
    completed, profile_paid, followed, cheered, placed = db.session.execute(
        _checklist_statement(), {"learner_id": lid}).one()
    if completed:
        _remember_finished(lid)
        return Onboarding({s: True for s in STEPS}, True)
    profile = profile_complete(learner)
    if profile and not profile_paid:  # as check_profile, without reading the award again
        _award_once(lid, "profile_completed", now)
    done = {
        "profile": profile,
        "follow": bool(followed),
        "cheer": bool(cheered),
        "circle": bool(placed),
    }
    if all(done.values()):
        _award_once(lid, "onboarding_completed", now)
        finished = _has_award(lid, "onboarding_completed")
        if finished:
            _remember_finished(lid)
        return Onboarding(done, finished)
    return Onboarding(done, False)


def earning_rules() -> list[RuleSnapshot]:
    """Enabled rules a learner can earn points with, for the "how points are earned" card (ladder order kept)."""
    return [r for r in load_registry().rules.values()
            if r.enabled and r.activity_type not in NOT_EXPLAINED and r.category is not None]
