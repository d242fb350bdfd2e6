"""Side quest definitions: validation, admin edits, publishing, seeding and a per-process cache (§10, §12).

Every award reads the published quests (the award hook, :mod:`.progress`), so
each process keeps an immutable snapshot for ``THRIVE_REGISTRY_CACHE_SECONDS``
seconds, like the rule registry (:mod:`thrive.services.catalogs`); edits
through this module call :func:`invalidate` so they apply at once in this
process, and other processes within that lifetime.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Quest
from thrive.models.quests import DEFAULT_QUEST_REWARDS, QUEST_DIFFICULTIES, QUEST_REPEATS
from thrive.services.catalogs import SnapshotCache, audit_edit, clean_key, ensure_key_free
from thrive.services.errors import NotFound, ValidationError
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, utcnow

MAX_TARGET = 1000
#: Reward bounds (points): the ``side_quest_completed`` rule's custom range.
MIN_REWARD, MAX_REWARD = 1, 1000


@dataclass(frozen=True)
class QuestDef:
    """An immutable copy of a :class:`Quest` row (instants are UTC)."""

    id: int
    key: str
    title: str
    description: str
    topic: str | None
    difficulty: str
    reward: int
    min_tier: str
    activity_type: str
    target: int
    topic_filter: str | None
    available_from: datetime | None
    available_until: datetime | None
    repeat: str
    prerequisite_id: int | None
    status: str
    position: int
    published_at: datetime | None

    def is_open(self, instant: datetime) -> bool:
        """True when ``instant`` (UTC) lies inside the active window ``[available_from, available_until)``."""
        instant = as_utc(instant)
        if self.available_from is not None and instant < self.available_from:
            return False
        return self.available_until is None or instant < self.available_until

    def matches_topic(self, meta: dict | None) -> bool:
        """True without a topic filter, else when ``metadata.topic`` equals it (case and spaces ignored)."""
        if not self.topic_filter:
            return True
        topic = (meta or {}).get("topic")
        return isinstance(topic, str) and _norm(topic) == _norm(self.topic_filter)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


_FIELDS = tuple(f.name for f in fields(QuestDef))


def snapshot(row: Quest) -> QuestDef:
    """A :class:`QuestDef` of a row."""
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in ("available_from", "available_until", "published_at"):
        if values[name] is not None:
            values[name] = as_utc(values[name])
    return QuestDef(**values)


@dataclass(frozen=True)
class Catalog:
    """Published quests by id, and the activity types any of them counts (the hook's fast exit)."""

    by_id: dict[int, QuestDef]
    activity_types: frozenset[str]

    @property
    def quests(self) -> list[QuestDef]:
        return sorted(self.by_id.values(), key=lambda q: (q.position, q.id))


def _load_published() -> Catalog:
    rows = [snapshot(q) for q in db.session.scalars(select(Quest).where(Quest.status == "published"))]
    return Catalog({q.id: q for q in rows}, frozenset(q.activity_type for q in rows))


_cache: SnapshotCache[Catalog] = SnapshotCache(_load_published)


def invalidate() -> None:
    """Drop this process's cached catalog (after any edit)."""
    _cache.invalidate()


def published() -> Catalog:
    """The published quests, from the per-process cache when fresh (:mod:`thrive.services.catalogs`)."""
    return _cache.get()


def all_quests() -> list[QuestDef]:
    """Every quest (drafts, published, retired), in display order — for the admin pages."""
    return [snapshot(q) for q in db.session.scalars(select(Quest).order_by(Quest.position, Quest.id))]


def get_quest(quest_id: int) -> QuestDef:
    """One quest by id; raises :class:`NotFound` (``unknown_quest``)."""
    row = db.session.get(Quest, quest_id)
    if row is None:
        raise NotFound(f"no quest with id {quest_id}", code="unknown_quest")
    return snapshot(row)


# ------------------------------------------------------------------ editing

EDITABLE = ("key", "title", "description", "topic", "difficulty", "reward", "min_tier", "activity_type", "target",
            "topic_filter", "available_from", "available_until", "repeat", "prerequisite_id", "position")


def validate(values: dict, *, quest_id: int | None = None) -> dict:
    """Check and normalise quest fields; return the cleaned dict. Raises :class:`ValidationError`.

    ``reward`` defaults by difficulty (50 / 100 / 200 points); instants are UTC;
    ``available_until`` must follow ``available_from``; the activity type must
    exist in the rule registry and the tier on the ladder; a prerequisite must
    exist and must not make a cycle.
    """
    clean = {k: values.get(k) for k in EDITABLE if k in values}
    for name in ("title", "description", "topic", "topic_filter", "key"):
        if isinstance(clean.get(name), str):
            clean[name] = clean[name].strip() or None
    clean["key"] = clean_key(clean.get("key"))
    if not clean.get("title"):
        raise ValidationError("a title is required", code="missing_field")
    clean["description"] = clean.get("description") or ""
    difficulty = clean.get("difficulty") or "beginner"
    if difficulty not in QUEST_DIFFICULTIES:
        raise ValidationError(f"difficulty must be one of {', '.join(QUEST_DIFFICULTIES)}")
    clean["difficulty"] = difficulty
    if clean.get("reward") in (None, ""):
        clean["reward"] = DEFAULT_QUEST_REWARDS[difficulty]
    if isinstance(clean["reward"], bool) or not isinstance(clean["reward"], int) \
            or not MIN_REWARD <= clean["reward"] <= MAX_REWARD:
        raise ValidationError(f"reward must be between {MIN_REWARD} and {MAX_REWARD} points")
    registry = load_registry()
    clean["min_tier"] = clean.get("min_tier") or registry.tiers[0].key
    if registry.tier_index(clean["min_tier"]) < 0:
        raise ValidationError(f"unknown tier {clean['min_tier']!r}")
    if clean.get("activity_type") not in registry.rules:
        raise ValidationError(f"unknown activity type {clean.get('activity_type')!r}", code="unknown_activity_type")
    target = clean.get("target")
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= MAX_TARGET:
        raise ValidationError(f"target must be between 1 and {MAX_TARGET}")
    clean["repeat"] = clean.get("repeat") or "once"
    if clean["repeat"] not in QUEST_REPEATS:
        raise ValidationError("repeat must be 'once' or 'weekly'")
    start, end = clean.get("available_from"), clean.get("available_until")
    clean["available_from"] = as_utc(start) if start else None
    clean["available_until"] = as_utc(end) if end else None
    if clean["available_from"] and clean["available_until"] and clean["available_until"] <= clean["available_from"]:
        raise ValidationError("the window must end after it starts", code="invalid_window")
    prereq = clean.get("prerequisite_id")
    if prereq:
        seen = {quest_id} if quest_id else set()
        current = prereq
        while current:
            if current in seen:
                raise ValidationError("the prerequisite would make a cycle", code="invalid_prerequisite")
            seen.add(current)
            row = db.session.get(Quest, current)
            if row is None:
                raise ValidationError(f"no quest with id {current}", code="invalid_prerequisite")
            current = row.prerequisite_id
    else:
        clean["prerequisite_id"] = None
    clean["position"] = int(clean.get("position") or 0)
    return clean


def create_quest(values: dict, *, now: datetime | None = None, actor=None) -> QuestDef:
    """Create a draft quest from ``values`` (see :func:`validate`); raises ``ValidationError`` (``key_taken``…).

    ``actor`` (a staff :class:`~thrive.models.Learner`) is written to the audit log with the change.
    """
    now = as_utc(now) if now else utcnow()
    clean = validate(values)
    with write_transaction() as session:
        ensure_key_free(session, Quest, clean["key"], noun="a quest")
        row = Quest(**clean, status="draft", created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        result = snapshot(row)
        audit_edit(session, actor, "quest.create", "quest", row.id, None, result)
    invalidate()
    return result


def update_quest(quest_id: int, values: dict, *, now: datetime | None = None,
                 actor=None) -> tuple[QuestDef, QuestDef]:
    """Edit a quest; returns ``(before, after)``. Runs already started keep their target (copied at start)."""
    now = as_utc(now) if now else utcnow()
    before = get_quest(quest_id)
    merged = {name: getattr(before, name) for name in EDITABLE}
    merged.update(values)
    clean = validate(merged, quest_id=quest_id)
    with write_transaction() as session:
        ensure_key_free(session, Quest, clean["key"], noun="a quest", except_id=quest_id)
        row = session.get(Quest, quest_id, with_for_update=True)
        for name, value in clean.items():
            setattr(row, name, value)
        row.updated_at = now
        session.flush()
        after = snapshot(row)
        audit_edit(session, actor, "quest.update", "quest", quest_id, before, after)
    invalidate()
    return before, after


def set_status(quest_id: int, status: str, *, now: datetime | None = None,
               actor=None) -> tuple[QuestDef, QuestDef]:
    """Publish (``published``) or retire (``retired``) a quest, or take it back to ``draft``.

    Returns ``(before, after)``. Publishing the first time sets ``published_at``
    and notifies the learners it is open to (``side_quest_available``, see
    :func:`thrive.services.quests.progress.notify_published`). Raises
    :class:`ValidationError` for an unknown status, :class:`NotFound`.
    """
    from thrive.services.quests.progress import notify_published

    if status not in ("draft", "published", "retired"):
        raise ValidationError("status must be draft, published or retired")
    now = as_utc(now) if now else utcnow()
    before = get_quest(quest_id)
    with write_transaction() as session:
        row = session.get(Quest, quest_id, with_for_update=True)
        row.status = status
        if status == "published" and row.published_at is None:
            row.published_at = now
        row.updated_at = now
        session.flush()
        after = snapshot(row)
        audit_edit(session, actor, f"quest.{status}", "quest", quest_id, before, after)
    invalidate()
    if status == "published" and before.status != "published":
        notify_published(after, now=now)
    return before, after


# ------------------------------------------------------------------ seeding

DEFAULT_QUESTS: list[dict] = [
    dict(key="first-steps", title="First steps", description="Complete three quizzes on any topic.",
         difficulty="beginner", activity_type="quiz_completed", target=3, position=1),
    dict(key="join-the-conversation", title="Join the conversation",
         description="Post five comments on other learners' work.", difficulty="beginner",
         activity_type="comment_posted", target=5, position=2),
    dict(key="weekly-quiz-sprint", title="Weekly quiz sprint",
         description="Complete five quizzes this week. Repeats every week.", difficulty="intermediate",
         activity_type="quiz_completed", target=5, repeat="weekly", min_tier="spark", position=3),
    dict(key="helping-hand", title="Helping hand", description="Give feedback on three projects.",
         difficulty="intermediate", activity_type="feedback_given", target=3, min_tier="spark",
         prerequisite="join-the-conversation", position=4),
    dict(key="maker", title="Maker", description="Publish two projects.", difficulty="advanced",
         activity_type="project_published", target=2, min_tier="blaze", position=5),
]


def seed_quests() -> int:
    """Insert the default quests that are missing (by key), published; never touches existing rows.

    Idempotent (§12). Returns how many were inserted. Prerequisites are given
    by key and resolved here; quests whose tier or activity type is unknown in
    this installation are skipped.
    """
    existing = set(db.session.scalars(select(Quest.key)))
    registry = load_registry()
    inserted = 0
    now = utcnow()
    for spec in DEFAULT_QUESTS:
        if spec["key"] in existing:
            continue
        values = dict(spec)
        prereq_key = values.pop("prerequisite", None)
        if prereq_key:
            values["prerequisite_id"] = db.session.scalar(select(Quest.id).where(Quest.key == prereq_key))
        if values["activity_type"] not in registry.rules or registry.tier_index(values.get("min_tier", "ember")) < 0:
            continue
        clean = validate(values)
        db.session.add(Quest(**clean, status="published", published_at=now, created_at=now, updated_at=now))
        db.session.flush()
        inserted += 1
    db.session.commit()
    invalidate()
    return inserted
