"""Reading side quests for one learner: the quest board, active quests (§7, §10, §13).

Only the learner's own runs are read; nothing compares learners (§1.3).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, select

from thrive.extensions import db
from thrive.models import Learner, LearnerQuest
from thrive.services.points.registry import TierSnapshot, load_registry
from thrive.services.quests.catalog import QuestDef, published
from thrive.services.quests.progress import period_for, tier_allows
from thrive.timeutil import as_utc, utcnow

#: Card states, in the order the board lists its sections.
STATES = ("in_progress", "available", "completed", "locked")


@dataclass(frozen=True)
class QuestCard:
    """One quest as the learner sees it.

    ``state``: ``in_progress`` / ``available`` / ``completed`` / ``locked``.
    ``progress``/``target`` count matching activities of the current run
    (0 when not started). ``lock`` says why a locked quest is locked:
    ``"tier"`` (``unlock_tier`` unlocks it), ``"prerequisite"``
    (``prerequisite`` is the quest to complete first) or ``"upcoming"``
    (opens at ``quest.available_from``). ``times_completed`` counts all
    periods (weekly quests repeat). ``completed_at`` is the latest completion (UTC).
    """

    quest: QuestDef
    state: str
    progress: int = 0
    target: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    times_completed: int = 0
    lock: str | None = None
    unlock_tier: TierSnapshot | None = None
    prerequisite: QuestDef | None = None

    @property
    def percent(self) -> int:
        return int(min(self.progress, self.target) * 100 / self.target) if self.target else 0


@dataclass(frozen=True)
class QuestBoard:
    """The learner's quests by state (each list in display order)."""

    in_progress: list[QuestCard]
    available: list[QuestCard]
    completed: list[QuestCard]
    locked: list[QuestCard]

    @property
    def empty(self) -> bool:
        return not (self.in_progress or self.available or self.completed or self.locked)


@cache
def _runs_statement():
    return select(LearnerQuest).where(LearnerQuest.learner_id == bindparam("learner_id")).order_by(LearnerQuest.id)


def _runs(learner_id: int) -> list[LearnerQuest]:
    return list(db.session.scalars(_runs_statement(), {"learner_id": learner_id}))


def quest_board(learner: Learner, now: datetime | None = None) -> QuestBoard:
    """Every published quest for ``learner`` at ``now`` (UTC), sorted into the board's sections.

    A quest whose window has ended appears only if the learner completed it.
    Two queries (the learner's runs; the catalog is cached).
    """
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    catalog = published()
    runs = _runs(learner.id)
    by_quest: dict[int, list[LearnerQuest]] = {}
    for run in runs:
        by_quest.setdefault(run.quest_id, []).append(run)
    done_ids = {r.quest_id for r in runs if r.completed_at is not None}
    tier_key = learner.state.tier_key if learner.state else registry.tiers[0].key
    board = QuestBoard([], [], [], [])
    for quest in catalog.quests:
        mine = by_quest.get(quest.id, [])
        completions = [as_utc(r.completed_at) for r in mine if r.completed_at is not None]
        latest = max(completions) if completions else None
        current = next((r for r in mine if r.period == period_for(quest, now)), None)
        ended = quest.available_until is not None and now >= quest.available_until
        common = dict(times_completed=len(completions), completed_at=latest)
        if current is not None and current.completed_at is None and not ended:
            board.in_progress.append(QuestCard(quest, "in_progress", current.progress, current.target,
                                               as_utc(current.started_at), **common))
        elif current is not None and current.completed_at is not None:
            board.completed.append(QuestCard(quest, "completed", current.target, current.target,
                                             as_utc(current.started_at), **common))
        elif ended:
            if completions:
                board.completed.append(QuestCard(quest, "completed", quest.target, quest.target, **common))
        elif not tier_allows(registry, tier_key, quest):
            board.locked.append(QuestCard(quest, "locked", 0, quest.target, lock="tier",
                                          unlock_tier=registry.tier(quest.min_tier), **common))
        elif quest.prerequisite_id and quest.prerequisite_id not in done_ids:
            board.locked.append(QuestCard(quest, "locked", 0, quest.target, lock="prerequisite",
                                          prerequisite=catalog.by_id.get(quest.prerequisite_id), **common))
        elif not quest.is_open(now):
            board.locked.append(QuestCard(quest, "locked", 0, quest.target, lock="upcoming", **common))
        else:
            board.available.append(QuestCard(quest, "available", 0, quest.target, **common))
    return board


def active_quests(learner_id: int, now: datetime | None = None) -> list[QuestCard]:
    """The learner's quests in progress at ``now`` (home panel, API): current-period runs not completed."""
    now = as_utc(now) if now else utcnow()
    catalog = published()
    if not catalog.by_id:  # nothing published: no run can be in progress (and no query)
        return []
    out = []
    for run in _runs(learner_id):
        quest = catalog.by_id.get(run.quest_id)
        if quest is None or run.completed_at is not None or run.period != period_for(quest, now):
            continue
        if quest.available_until is not None and now >= quest.available_until:
            continue
        out.append(QuestCard(quest, "in_progress", run.progress, run.target, as_utc(run.started_at)))
    return out
