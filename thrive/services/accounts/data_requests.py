"""Data subject requests: export a learner's data, erase a learner (§1, §8.4, §15; issue 10).

**Export** (:func:`export_data`) gathers the learner's data as rows, one
list per section of :data:`SECTIONS` (profile, settings, ledger, progression
events, streaks, goals, circle memberships, side quests, achievements,
follows, cheers); notifications come from :func:`notification_rows`. Sections
form a registry (:func:`register_section`), so domains added later contribute
their own tables with one call. Other learners appear only as "A learner"
unless they share their profile (the visibility rules). The ZIP (JSON + CSV
per section and an ``index.html``) and every word in it — notifications
included, worded by the same code as the notifications page — are built in
the web layer (:mod:`thrive.web.data_export`), which the settings page, the
admin area, the CLI and the API all call.

**Erasure** (:func:`erase_learner`) removes the learner's personal data in one
write transaction — username, display name, email, password, topics, time
zone, external id, preferences, notifications, celebrations, follows (both
ways), cheers given or received, side quests in progress, staff reasons for
revoked badges — and keeps their ledger only as anonymous amounts
(descriptions, metadata and event keys scrubbed), with the completed quests
and earned badges those amounts paid for (made private), so community
aggregates stay true and ``flask thrive verify`` stays clean. The account is
deactivated and marked erased, every session ends, the learner disappears from
every page (visibility rules), and the external id and username are free to be
registered again as a new learner. Erasing twice is a no-op.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import (
    Achievement,
    Celebration,
    Cheer,
    CircleMembership,
    Follow,
    Learner,
    LearnerAchievement,
    LearnerQuest,
    LearnerState,
    LearnerTopic,
    LedgerEntry,
    Notification,
    ProgressionEvent,
    Quest,
    WeeklyGoal,
)
from thrive.services.community.visibility import ANONYMOUS_NAME, learner_public_name
from thrive.services.errors import UnknownLearner
from thrive.timeutil import utcnow

log = logging.getLogger(__name__)

#: A section: (learner) → rows (dicts of JSON-able scalars).
SectionFn = Callable[[Learner], list[dict]]
#: Section name (the file stem in the ZIP) → function; the web layer titles them.
SECTIONS: dict[str, SectionFn] = {}


def register_section(name: str) -> Callable[[SectionFn], SectionFn]:
    """Decorator: add an export section ``name`` (file stem, e.g. ``ledger`` → ``ledger.json``/``.csv``)."""

    def deco(fn: SectionFn) -> SectionFn:
        SECTIONS[name] = fn
        return fn

    return deco


def _value(v):
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _names(ids: set[int]) -> dict[int, str]:
    """Learner id → the name this learner may see of them (public name or "A learner")."""
    if not ids:
        return {}
    return {lr.id: learner_public_name(lr) for lr in db.session.scalars(select(Learner).where(Learner.id.in_(ids)))}


@register_section("profile")
def _profile(learner: Learner) -> list[dict]:
    return [{"username": learner.username, "display_name": learner.display_name, "email": learner.email,
             "timezone": learner.timezone, "external_id": learner.external_id, "topics": ", ".join(learner.topics),
             "created_at": _value(learner.created_at), "is_admin": learner.is_admin}]


@register_section("settings")
def _settings(learner: Learner) -> list[dict]:
    row = {"share_activities": learner.share_activities, "share_tier_upgrades": learner.share_tier_upgrades,
           "share_profile": learner.share_profile}
    row.update({f"notify_{k}": bool(v) for k, v in sorted((learner.notification_prefs or {}).items())})
    return [row]


@register_section("ledger")
def _ledger(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.learner_id == learner.id)
                              .order_by(LedgerEntry.occurred_at, LedgerEntry.id))
    return [{"id": e.id, "activity_type": e.activity_type, "category": e.category, "points": e.points,
             "capped": e.capped, "event_key": e.event_key, "description": e.description,
             "metadata": json.dumps(e.meta, sort_keys=True) if e.meta else None,
             "occurred_at": _value(e.occurred_at), "local_date": _value(e.local_date), "week": e.week} for e in rows]


@register_section("progression_events")
def _progression(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(ProgressionEvent).where(ProgressionEvent.learner_id == learner.id)
                              .order_by(ProgressionEvent.occurred_at, ProgressionEvent.id))
    return [{"id": p.id, "kind": p.kind, "from": p.from_value, "to": p.to_value,
             "occurred_at": _value(p.occurred_at)} for p in rows]


@register_section("streaks")
def _streaks(learner: Learner) -> list[dict]:
    s = db.session.get(LearnerState, learner.id)
    if s is None:
        return []
    return [{"total_points": s.total_points, "tier": s.tier_key, "level": s.level,
             "current_streak": s.current_streak, "longest_streak": s.longest_streak,
             "streak_through": _value(s.streak_through), "grace_days": s.grace_days,
             "last_active_date": _value(s.last_active_date), "quizzes_completed": s.quizzes_completed,
             "projects_created": s.projects_created, "comments_posted": s.comments_posted,
             "side_quests_completed": s.side_quests_completed}]


@register_section("goals")
def _goals(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(WeeklyGoal).where(WeeklyGoal.learner_id == learner.id)
                              .order_by(WeeklyGoal.week, WeeklyGoal.id))
    return [{"id": g.id, "week": g.week, "title": g.title, "kind": g.kind, "target": g.target,
             "progress": g.progress, "reward": g.reward, "completed_at": _value(g.completed_at)} for g in rows]


@register_section("circle_memberships")
def _circles(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(CircleMembership).where(CircleMembership.learner_id == learner.id)
                              .order_by(CircleMembership.week))
    return [{"week": m.week, "circle_id": m.circle_id, "your_points_that_week": m.points,
             "joined_at": _value(m.joined_at)} for m in rows]


@register_section("follows")
def _follows(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(Follow).where(or_(Follow.follower_id == learner.id,
                                                       Follow.followed_id == learner.id))).all()
    names = _names({f.followed_id if f.follower_id == learner.id else f.follower_id for f in rows})
    return [{"direction": "you follow" if f.follower_id == learner.id else "follows you",
             "learner": names.get(f.followed_id if f.follower_id == learner.id else f.follower_id, ANONYMOUS_NAME),
             "since": _value(f.created_at)} for f in rows]


@register_section("cheers")
def _cheers(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(Cheer).where(or_(Cheer.cheerer_id == learner.id,
                                                      Cheer.recipient_id == learner.id))
                              .order_by(Cheer.created_at, Cheer.id)).all()
    names = _names({c.recipient_id if c.cheerer_id == learner.id else c.cheerer_id for c in rows})
    out = []
    for c in rows:
        given = c.cheerer_id == learner.id
        other = c.recipient_id if given else c.cheerer_id
        out.append({"direction": "given" if given else "received", "learner": names.get(other, ANONYMOUS_NAME),
                    "item": f"{c.target_kind}:{c.target_id}", "points_you_earned": c.points_awarded if given else 0,
                    "at": _value(c.created_at)})
    return out


@register_section("side_quests")
def _side_quests(learner: Learner) -> list[dict]:
    rows = db.session.execute(
        select(LearnerQuest, Quest.key, Quest.title).join(Quest, Quest.id == LearnerQuest.quest_id)
        .where(LearnerQuest.learner_id == learner.id).order_by(LearnerQuest.started_at, LearnerQuest.id)).all()
    return [{"id": run.id, "quest": key, "title": title, "period": run.period, "progress": run.progress,
             "target": run.target, "started_at": _value(run.started_at), "completed_at": _value(run.completed_at),
             "ledger_entry_id": run.ledger_entry_id} for run, key, title in rows]


@register_section("achievements")
def _achievements(learner: Learner) -> list[dict]:
    rows = db.session.execute(
        select(LearnerAchievement, Achievement.key, Achievement.name)
        .join(Achievement, Achievement.id == LearnerAchievement.achievement_id)
        .where(LearnerAchievement.learner_id == learner.id)
        .order_by(LearnerAchievement.granted_at, LearnerAchievement.id)).all()
    return [{"id": row.id, "achievement": key, "name": name, "earned_at": _value(row.granted_at),
             "visibility": row.visibility, "featured": row.visibility == "featured",
             "private": row.visibility == "private", "source": row.source, "ledger_entry_id": row.ledger_entry_id,
             "revoked_at": _value(row.revoked_at), "revoked_reason": row.revoked_reason} for row, key, name in rows]


@register_section("achievement_progress")
def _achievement_progress(learner: Learner) -> list[dict]:
    """Progress towards the badges not earned yet (secret ones left out, as on the achievements page)."""
    from thrive.services.achievements.reading import achievement_board

    board = achievement_board(learner.id)
    return [{"achievement": card.achievement.key, "name": card.achievement.name, "state": card.state,
             "progress": card.progress, "target": card.target} for card in board.in_progress + board.locked]


def learner_for_export(learner_id: int) -> Learner:
    """The learner whose data is exported; raises ``UnknownLearner`` (also when erased)."""
    learner = db.session.get(Learner, learner_id)
    if learner is None or learner.erased_at is not None:
        raise UnknownLearner(f"no learner with id {learner_id}")
    return learner


def export_data(learner_id: int) -> dict[str, list[dict]]:
    """Every section's rows for the learner, in :data:`SECTIONS` order; raises ``UnknownLearner`` (also when erased).

    Notifications are not a section: their words depend on the reader's
    language and the visibility rules at display time, so the web layer words
    the rows of :func:`notification_rows` exactly as the notifications page does.
    """
    learner = learner_for_export(learner_id)
    return {name: fn(learner) for name, fn in SECTIONS.items()}


def notification_rows(learner_id: int) -> list[Notification]:
    """Every notification of the learner, oldest first (stored rows, for the web layer to word)."""
    return list(db.session.scalars(select(Notification).where(Notification.learner_id == learner_id)
                                   .order_by(Notification.created_at, Notification.id)))


@dataclass(frozen=True)
class Erasure:
    """Outcome of :func:`erase_learner`: ``already`` when the learner had been erased before (no-op)."""

    learner_id: int
    already: bool
    ledger_entries_kept: int


def erase_learner(learner_id: int, *, now: datetime | None = None,
                  within: Callable[[Session, int], None] | None = None) -> Erasure:
    """Erase the learner's personal data, keeping anonymous ledger amounts (module docstring); idempotent.

    ``within(session, ledger entries kept)`` is called inside the erasure's
    write transaction (not for an already erased learner), e.g. to append the
    staff audit entry so that both commit or neither does.
    Raises ``UnknownLearner`` when no such learner exists. Logs the erasure by
    internal id only (no personal data).
    """
    now = now or utcnow()
    with write_transaction() as session:
        learner = session.get(Learner, learner_id)
        if learner is None:
            raise UnknownLearner(f"no learner with id {learner_id}")
        if learner.erased_at is not None:
            kept = len(session.scalars(select(LedgerEntry.id).where(LedgerEntry.learner_id == learner_id)).all())
            return Erasure(learner_id, True, kept)
        placeholder = f"erased-{learner_id}"
        learner.username = placeholder
        learner.display_name = ANONYMOUS_NAME
        learner.email = None
        learner.password_hash = None
        learner.timezone = "UTC"
        learner.external_id = None
        learner.notification_prefs = {}
        learner.share_activities = learner.share_tier_upgrades = learner.share_profile = False
        learner.is_active_account = False
        learner.staff_role = None
        learner.session_generation = (learner.session_generation or 0) + 1
        learner.erased_at = now
        session.execute(delete(LearnerTopic).where(LearnerTopic.learner_id == learner_id))
        session.execute(delete(Notification).where(Notification.learner_id == learner_id))
        session.execute(delete(Celebration).where(Celebration.learner_id == learner_id))
        session.execute(delete(Follow).where(or_(Follow.follower_id == learner_id, Follow.followed_id == learner_id)))
        session.execute(delete(Cheer).where(or_(Cheer.cheerer_id == learner_id, Cheer.recipient_id == learner_id)))
        # Quests in progress are activity data with no amount: gone. Completed quests and earned badges stay
        # (their rewards are ledger amounts that verify reads), private and without staff's revocation reasons.
        session.execute(delete(LearnerQuest).where(LearnerQuest.learner_id == learner_id,
                                                   LearnerQuest.completed_at.is_(None)))
        session.execute(update(LearnerAchievement).where(LearnerAchievement.learner_id == learner_id)
                        .values(visibility="private", revoked_reason=None)
                        .execution_options(synchronize_session=False))
        # Others' notifications about this learner render names at display time ("A learner" from now on);
        # older ones stored the follower's username and name: rewrite them to the id-only form.
        for note in session.scalars(select(Notification).where(
                Notification.dedupe_key.like(f"new_follower:{learner_id}:%"))):
            note.title = f"{ANONYMOUS_NAME} started following you"
            note.link = None
            note.data = {"actor_id": learner_id}
        result = session.execute(
            update(LedgerEntry).where(LedgerEntry.learner_id == learner_id)
            .values(description=None, meta=None, result=None,
                    event_key=literal("erased:", String) + cast(LedgerEntry.id, String))  # keys carry platform ids
            .execution_options(synchronize_session=False))
        session.execute(update(WeeklyGoal).where(WeeklyGoal.learner_id == learner_id).values(data=None)
                        .execution_options(synchronize_session=False))
        if within is not None:
            within(session, result.rowcount)
    session.expire_all()
    log.info("learner #%s erased on request", learner_id)
    return Erasure(learner_id, False, result.rowcount)
