"""Data subject requests: export a learner's data, erase a learner (§1, §8.4, §15; issue 10).

**Export** (:func:`export_learner`) builds a ZIP: for every section of
:data:`SECTIONS` a ``<section>.json`` and a ``<section>.csv``, plus an
``index.html`` to browse them. Sections form a registry
(:func:`register_section`), so domains added later (quests, achievements…)
contribute their own tables with one call. Other learners appear only as
"A learner" unless they share their profile (the visibility rules).

**Erasure** (:func:`erase_learner`) removes the learner's personal data in one
write transaction — username, display name, email, password, topics, time
zone, external id, preferences, notifications, celebrations, follows (both
ways) and cheers given or received — and keeps their ledger only as anonymous
amounts (descriptions, metadata and event keys scrubbed), so community
aggregates stay true and ``flask thrive verify`` stays clean. The account is
deactivated and marked erased, every session ends, the learner disappears from
every page (visibility rules), and the external id and username are free to be
registered again as a new learner. Erasing twice is a no-op.
"""
from __future__ import annotations

import csv
import html
import io
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, cast, delete, literal, or_, select, update

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import (
    Celebration,
    Cheer,
    CircleMembership,
    Follow,
    Learner,
    LearnerState,
    LearnerTopic,
    LedgerEntry,
    Notification,
    ProgressionEvent,
    WeeklyGoal,
)
from thrive.services.community.visibility import ANONYMOUS_NAME, learner_public_name
from thrive.services.errors import UnknownLearner
from thrive.services.notifications.inbox import render_notifications
from thrive.timeutil import utcnow

log = logging.getLogger(__name__)

#: A section: (learner) → rows (dicts of JSON-able scalars).
SectionFn = Callable[[Learner], list[dict]]
SECTIONS: dict[str, tuple[str, SectionFn]] = {}


def register_section(name: str, title: str) -> Callable[[SectionFn], SectionFn]:
    """Decorator: add an export section ``name`` (file stem) with a human ``title`` (index.html)."""

    def deco(fn: SectionFn) -> SectionFn:
        SECTIONS[name] = (title, fn)
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


@register_section("profile", "Profile")
def _profile(learner: Learner) -> list[dict]:
    return [{"username": learner.username, "display_name": learner.display_name, "email": learner.email,
             "timezone": learner.timezone, "external_id": learner.external_id, "topics": ", ".join(learner.topics),
             "created_at": _value(learner.created_at), "is_admin": learner.is_admin}]


@register_section("settings", "Settings")
def _settings(learner: Learner) -> list[dict]:
    row = {"share_activities": learner.share_activities, "share_tier_upgrades": learner.share_tier_upgrades,
           "share_profile": learner.share_profile}
    row.update({f"notify_{k}": bool(v) for k, v in sorted((learner.notification_prefs or {}).items())})
    return [row]


@register_section("ledger", "Points history (ledger)")
def _ledger(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.learner_id == learner.id)
                              .order_by(LedgerEntry.occurred_at, LedgerEntry.id))
    return [{"id": e.id, "activity_type": e.activity_type, "category": e.category, "points": e.points,
             "capped": e.capped, "event_key": e.event_key, "description": e.description,
             "metadata": json.dumps(e.meta, sort_keys=True) if e.meta else None,
             "occurred_at": _value(e.occurred_at), "local_date": _value(e.local_date), "week": e.week} for e in rows]


@register_section("progression_events", "Tier and level changes")
def _progression(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(ProgressionEvent).where(ProgressionEvent.learner_id == learner.id)
                              .order_by(ProgressionEvent.occurred_at, ProgressionEvent.id))
    return [{"id": p.id, "kind": p.kind, "from": p.from_value, "to": p.to_value,
             "occurred_at": _value(p.occurred_at)} for p in rows]


@register_section("streaks", "Progress and streaks")
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


@register_section("goals", "Weekly goals")
def _goals(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(WeeklyGoal).where(WeeklyGoal.learner_id == learner.id)
                              .order_by(WeeklyGoal.week, WeeklyGoal.id))
    return [{"id": g.id, "week": g.week, "title": g.title, "kind": g.kind, "target": g.target,
             "progress": g.progress, "reward": g.reward, "completed_at": _value(g.completed_at)} for g in rows]


@register_section("circle_memberships", "Thrive Circle memberships")
def _circles(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(CircleMembership).where(CircleMembership.learner_id == learner.id)
                              .order_by(CircleMembership.week))
    return [{"week": m.week, "circle_id": m.circle_id, "your_points_that_week": m.points,
             "joined_at": _value(m.joined_at)} for m in rows]


@register_section("follows", "Follows")
def _follows(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(Follow).where(or_(Follow.follower_id == learner.id,
                                                       Follow.followed_id == learner.id))).all()
    names = _names({f.followed_id if f.follower_id == learner.id else f.follower_id for f in rows})
    return [{"direction": "you follow" if f.follower_id == learner.id else "follows you",
             "learner": names.get(f.followed_id if f.follower_id == learner.id else f.follower_id, ANONYMOUS_NAME),
             "since": _value(f.created_at)} for f in rows]


@register_section("cheers", "Cheers given and received")
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


@register_section("notifications", "Notifications")
def _notifications(learner: Learner) -> list[dict]:
    rows = db.session.scalars(select(Notification).where(Notification.learner_id == learner.id)
                              .order_by(Notification.created_at, Notification.id)).all()
    return [{"type": n.type, "title": n.title, "body": n.body, "created_at": _value(n.created_at),
             "read_at": _value(n.read_at)} for n in render_notifications(rows)]


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns or ["(empty)"])
    writer.writeheader()
    for row in rows:
        # spreadsheet formula injection: prefix cells starting with = + - @ by a quote
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    return buffer.getvalue()


def _index(learner_name: str, counts: dict[str, int], exported_at: datetime) -> str:
    items = "\n".join(
        f'<li><strong>{html.escape(SECTIONS[n][0])}</strong> ({c} row{"s" if c != 1 else ""}): '
        f'<a href="{n}.json">{n}.json</a> · <a href="{n}.csv">{n}.csv</a></li>' for n, c in counts.items())
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Your Thrive data</title>'
            f"<h1>Your Thrive data</h1><p>{html.escape(learner_name)}, exported {exported_at.isoformat()} (UTC)."
            f" Other learners appear as “{ANONYMOUS_NAME}” unless they share their profile.</p>"
            f"<ul>{items}</ul></html>\n")


@dataclass(frozen=True)
class Export:
    """A finished export: ``filename`` (``thrive-data-<username>.zip``), ``content`` (ZIP bytes), row counts."""

    filename: str
    content: bytes
    counts: dict[str, int]


def export_data(learner_id: int) -> dict[str, list[dict]]:
    """Every section's rows for the learner (what the ZIP holds); raises ``UnknownLearner`` (also when erased)."""
    learner = db.session.get(Learner, learner_id)
    if learner is None or learner.erased_at is not None:
        raise UnknownLearner(f"no learner with id {learner_id}")
    return {name: fn(learner) for name, (_title, fn) in SECTIONS.items()}


def export_learner(learner_id: int, *, now: datetime | None = None) -> Export:
    """Build the learner's export ZIP (JSON + CSV per section, ``index.html``); raises ``UnknownLearner``."""
    data = export_data(learner_id)
    learner = db.session.get(Learner, learner_id)
    now = now or utcnow()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in data.items():
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2, ensure_ascii=False, default=str))
            archive.writestr(f"{name}.csv", _csv(rows))
        archive.writestr("index.html", _index(learner.display_name, {n: len(r) for n, r in data.items()}, now))
    return Export(f"thrive-data-{learner.username}.zip", buffer.getvalue(), {n: len(r) for n, r in data.items()})


@dataclass(frozen=True)
class Erasure:
    """Outcome of :func:`erase_learner`: ``already`` when the learner had been erased before (no-op)."""

    learner_id: int
    already: bool
    ledger_entries_kept: int


def erase_learner(learner_id: int, *, now: datetime | None = None) -> Erasure:
    """Erase the learner's personal data, keeping anonymous ledger amounts (module docstring); idempotent.

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
        learner.is_admin = False
        learner.session_generation = (learner.session_generation or 0) + 1
        learner.erased_at = now
        session.execute(delete(LearnerTopic).where(LearnerTopic.learner_id == learner_id))
        session.execute(delete(Notification).where(Notification.learner_id == learner_id))
        session.execute(delete(Celebration).where(Celebration.learner_id == learner_id))
        session.execute(delete(Follow).where(or_(Follow.follower_id == learner_id, Follow.followed_id == learner_id)))
        session.execute(delete(Cheer).where(or_(Cheer.cheerer_id == learner_id, Cheer.recipient_id == learner_id)))
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
    session.expire_all()
    log.info("learner #%s erased on request", learner_id)
    return Erasure(learner_id, False, result.rowcount)
