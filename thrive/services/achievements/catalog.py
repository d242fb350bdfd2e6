"""Achievement definitions: validation, admin edits, seeding and a per-process cache (§10, §12).

The award hook reads the active achievements on every award, so each process
keeps an immutable snapshot (``THRIVE_REGISTRY_CACHE_SECONDS``), grouped by
what can make each criterion become true, so the hook can exit without a
query when nothing applies (:mod:`thrive.services.catalogs`). Edits here
call :func:`invalidate`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Achievement
from thrive.services.achievements.criteria import activity_type_of, counter_of, validate_criteria
from thrive.services.catalogs import SnapshotCache, audit_edit, clean_key, ensure_key_free
from thrive.services.errors import NotFound, ValidationError
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, utcnow

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: ``achievement_earned`` rewards (points, §4.2).
MIN_REWARD, MAX_REWARD = 25, 100


@dataclass(frozen=True)
class AchievementDef:
    """An immutable copy of an :class:`Achievement` row."""

    id: int
    key: str
    name: str
    description: str
    criteria_text: str
    criteria: dict
    icon: str
    colour: str
    group: str
    secret: bool
    reward: int
    status: str
    position: int


_FIELDS = tuple(f.name for f in fields(AchievementDef))


def snapshot(row: Achievement) -> AchievementDef:
    return AchievementDef(**{name: getattr(row, name) for name in _FIELDS})


@dataclass(frozen=True)
class Catalog:
    """Active achievements, and the same grouped by trigger for the award hook.

    ``by_counter``: lifetime counter → defs; ``by_activity``: activity type →
    defs (award counts); ``streak``/``tier``/``level``/``points``: defs of
    those kinds.
    """

    by_id: dict[int, AchievementDef]
    by_counter: dict[str, tuple[AchievementDef, ...]]
    by_activity: dict[str, tuple[AchievementDef, ...]]
    streak: tuple[AchievementDef, ...]
    tier: tuple[AchievementDef, ...]
    level: tuple[AchievementDef, ...]
    points: tuple[AchievementDef, ...]

    @property
    def achievements(self) -> list[AchievementDef]:
        return sorted(self.by_id.values(), key=lambda a: (a.group, a.position, a.id))


def _build(defs: list[AchievementDef]) -> Catalog:
    by_counter: dict[str, list] = {}
    by_activity: dict[str, list] = {}
    kinds: dict[str, list] = {"streak": [], "tier": [], "level": [], "points": []}
    for a in defs:
        counter, activity = counter_of(a.criteria), activity_type_of(a.criteria)
        if counter:
            by_counter.setdefault(counter, []).append(a)
        elif activity:
            by_activity.setdefault(activity, []).append(a)
        elif a.criteria["kind"] in kinds:
            kinds[a.criteria["kind"]].append(a)
    return Catalog({a.id: a for a in defs}, {k: tuple(v) for k, v in by_counter.items()},
                   {k: tuple(v) for k, v in by_activity.items()}, *(tuple(kinds[k]) for k in kinds))


def _load_active() -> Catalog:
    rows = db.session.scalars(select(Achievement).where(Achievement.status == "active"))
    return _build([snapshot(a) for a in rows])


_cache: SnapshotCache[Catalog] = SnapshotCache(_load_active)


def invalidate() -> None:
    """Drop this process's cached catalog (after any edit)."""
    _cache.invalidate()


def active() -> Catalog:
    """The active (not retired) achievements, from the per-process cache when fresh
    (:mod:`thrive.services.catalogs`)."""
    return _cache.get()


def all_achievements() -> list[AchievementDef]:
    """Every achievement, retired ones too (admin pages, earned badges), in display order."""
    return [snapshot(a) for a in db.session.scalars(
        select(Achievement).order_by(Achievement.group, Achievement.position, Achievement.id))]


def get_achievement(achievement_id: int) -> AchievementDef:
    """One achievement by id; raises :class:`NotFound` (``unknown_achievement``)."""
    row = db.session.get(Achievement, achievement_id)
    if row is None:
        raise NotFound(f"no achievement with id {achievement_id}", code="unknown_achievement")
    return snapshot(row)


EDITABLE = ("key", "name", "description", "criteria_text", "criteria", "icon", "colour", "group", "secret", "reward",
            "position")


def validate(values: dict) -> dict:
    """Check and normalise achievement fields; raise :class:`ValidationError` (see the field rules)."""
    clean = {k: values.get(k) for k in EDITABLE if k in values}
    for name in ("key", "name", "description", "criteria_text", "icon", "colour", "group"):
        if isinstance(clean.get(name), str):
            clean[name] = clean[name].strip()
    clean["key"] = clean_key(clean.get("key"))
    if not clean.get("name"):
        raise ValidationError("a name is required", code="missing_field")
    if not clean.get("criteria_text"):
        raise ValidationError("a plain-language criteria text is required", code="missing_field")
    clean["criteria"] = validate_criteria(clean.get("criteria"), load_registry())
    reward = clean.get("reward", MIN_REWARD)
    if isinstance(reward, bool) or not isinstance(reward, int) or not MIN_REWARD <= reward <= MAX_REWARD:
        raise ValidationError(f"reward must be between {MIN_REWARD} and {MAX_REWARD} points")
    clean["reward"] = reward
    clean["colour"] = clean.get("colour") or "#1c7ed6"
    if not COLOUR_RE.match(clean["colour"]):
        raise ValidationError("colour must look like #1c7ed6")
    clean["icon"] = (clean.get("icon") or "🏅")[:16]
    clean["group"] = (clean.get("group") or "General")[:40]
    clean["description"] = clean.get("description") or ""
    clean["secret"] = bool(clean.get("secret"))
    clean["position"] = int(clean.get("position") or 0)
    return clean


def create_achievement(values: dict, *, now: datetime | None = None, actor=None) -> AchievementDef:
    """Create an active achievement; raises ``ValidationError`` (``key_taken``, field errors).

    Learners who already meet it get it from the backfill (``grant-achievements``), not here.
    """
    now = as_utc(now) if now else utcnow()
    clean = validate(values)
    with write_transaction() as session:
        ensure_key_free(session, Achievement, clean["key"], noun="an achievement")
        row = Achievement(**clean, status="active", created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        result = snapshot(row)
        audit_edit(session, actor, "achievement.create", "achievement", row.id, None, result)
    invalidate()
    return result


def update_achievement(achievement_id: int, values: dict, *, now: datetime | None = None,
                       actor=None) -> tuple[AchievementDef, AchievementDef]:
    """Edit an achievement; return ``(before, after)``. Badges already granted stay granted."""
    now = as_utc(now) if now else utcnow()
    before = get_achievement(achievement_id)
    merged = {name: getattr(before, name) for name in EDITABLE}
    merged.update(values)
    clean = validate(merged)
    with write_transaction() as session:
        ensure_key_free(session, Achievement, clean["key"], noun="an achievement", except_id=achievement_id)
        row = session.get(Achievement, achievement_id, with_for_update=True)
        for name, value in clean.items():
            setattr(row, name, value)
        row.updated_at = now
        session.flush()
        after = snapshot(row)
        audit_edit(session, actor, "achievement.update", "achievement", achievement_id, before, after)
    invalidate()
    return before, after


def set_status(achievement_id: int, status: str, *, now: datetime | None = None,
               actor=None) -> tuple[AchievementDef, AchievementDef]:
    """Retire (``retired``: no longer granted; holders keep it) or reactivate (``active``)."""
    if status not in ("active", "retired"):
        raise ValidationError("status must be active or retired")
    now = as_utc(now) if now else utcnow()
    before = get_achievement(achievement_id)
    with write_transaction() as session:
        row = session.get(Achievement, achievement_id, with_for_update=True)
        row.status, row.updated_at = status, now
        session.flush()
        after = snapshot(row)
        action = f"achievement.{'retire' if status == 'retired' else 'activate'}"
        audit_edit(session, actor, action, "achievement", achievement_id, before, after)
    invalidate()
    return before, after


# ------------------------------------------------------------------ seeding

def _a(key, name, icon, group, text, criteria, reward=25, secret=False, description="", colour="#1c7ed6"):
    return dict(key=key, name=name, icon=icon, group=group, criteria_text=text, criteria=criteria, reward=reward,
                secret=secret, description=description, colour=colour)


DEFAULT_ACHIEVEMENTS: list[dict] = [
    _a("first-quiz", "First Quiz", "🧠", "Learning", "Complete your first quiz.",
       {"kind": "counter", "counter": "quizzes_completed", "target": 1}, colour="#2f9e44"),
    _a("quiz-explorer", "Quiz Explorer", "🧭", "Learning", "Complete 10 quizzes.",
       {"kind": "counter", "counter": "quizzes_completed", "target": 10}, reward=50, colour="#2f9e44"),
    _a("quiz-master", "Quiz Master", "🎓", "Learning", "Complete 50 quizzes.",
       {"kind": "counter", "counter": "quizzes_completed", "target": 50}, reward=100, colour="#2f9e44"),
    _a("first-project", "First Project", "🛠️", "Creation", "Create your first project.",
       {"kind": "counter", "counter": "projects_created", "target": 1}, colour="#e8590c"),
    _a("first-publish", "Ship It", "🚀", "Creation", "Publish a project.",
       {"kind": "activity_count", "activity_type": "project_published", "target": 1}, colour="#e8590c"),
    _a("helping-hand", "Helping Hand", "🤝", "Community", "Give feedback on 5 projects.",
       {"kind": "activity_count", "activity_type": "feedback_given", "target": 5}, reward=50, colour="#1c7ed6"),
    _a("first-cheer", "First Cheer", "👏", "Community", "Cheer someone in the community feed.",
       {"kind": "activity_count", "activity_type": "reaction_given", "target": 1}, colour="#1c7ed6"),
    _a("conversation-starter", "Conversation Starter", "💬", "Community", "Post 25 comments.",
       {"kind": "counter", "counter": "comments_posted", "target": 25}, reward=50, colour="#1c7ed6"),
    _a("week-warrior", "Week Warrior", "🔥", "Consistency", "Keep a 7-day streak.",
       {"kind": "streak", "target": 7}, reward=50, colour="#d6336c"),
    _a("unstoppable", "Unstoppable", "☄️", "Consistency", "Keep a 30-day streak.",
       {"kind": "streak", "target": 30}, reward=100, colour="#d6336c"),
    _a("circle-contributor", "Circle Contributor", "⭕", "Consistency", "Help your Thrive Circle reach its goal.",
       {"kind": "circle_goals", "target": 1}, reward=50, colour="#d6336c"),
    _a("first-quest", "Adventurer", "🗺️", "Side quests", "Complete a side quest.",
       {"kind": "quests", "target": 1}, colour="#7048e8"),
    _a("reached-spark", "Spark Reached", "✨", "Tiers", "Reach the Spark tier.", {"kind": "tier", "tier": "spark"},
       colour="#f59f00"),
    _a("reached-blaze", "Blaze Reached", "🌟", "Tiers", "Reach the Blaze tier.", {"kind": "tier", "tier": "blaze"},
       reward=50, colour="#f59f00"),
    _a("reached-beacon", "Beacon Reached", "🔦", "Tiers", "Reach the Beacon tier.",
       {"kind": "tier", "tier": "beacon"}, reward=75, colour="#f59f00"),
    _a("reached-phoenix", "Phoenix Reached", "🌅", "Tiers", "Reach the Phoenix tier.",
       {"kind": "tier", "tier": "phoenix"}, reward=100, colour="#f59f00"),
    _a("level-10", "Double Digits", "🔟", "Tiers", "Reach level 10.", {"kind": "level", "target": 10}, reward=50,
       colour="#f59f00"),
    _a("quest-legend", "Quest Legend", "🐉", "Side quests", "Complete 10 side quests.",
       {"kind": "quests", "target": 10}, reward=100, secret=True, colour="#7048e8",
       description="A secret for the most curious adventurers."),
]


def seed_achievements() -> int:
    """Insert the default achievements that are missing (by key); never touches existing rows.

    Idempotent (§12). Achievements whose tier or activity type does not exist
    in this installation are skipped. Returns how many were inserted.
    """
    existing = set(db.session.scalars(select(Achievement.key)))
    inserted = 0
    now = utcnow()
    for position, spec in enumerate(DEFAULT_ACHIEVEMENTS, start=1):
        if spec["key"] in existing:
            continue
        try:
            clean = validate({**spec, "position": position})
        except ValidationError:
            continue
        db.session.add(Achievement(**clean, status="active", created_at=now, updated_at=now))
        inserted += 1
    db.session.commit()
    invalidate()
    return inserted
