"""Starting side quests, progress inside the award transaction, completion once (§4.1, §9, §10).

- :func:`start_quest` opens a *run* (:class:`LearnerQuest`) for the learner
  and the quest's period (``"once"``, or the platform ISO week for weekly
  quests) if the quest is published, its window is open, the learner's tier
  reaches ``min_tier`` and the prerequisite quest (if any) is completed.
- :func:`_on_award` (an award hook) advances the learner's open runs: one per
  non-capped award of the quest's activity type (and topic, when filtered)
  that occurred at or after the run's start, inside the quest's window and —
  for weekly quests — in the run's week. The common case costs nothing: an
  award whose activity type no published quest counts returns at once (a
  cached set), otherwise one indexed query finds the open runs.
- Reaching the target awards ``side_quest_completed`` with the quest's reward
  through the nested award (event key ``quest:<quest>:<learner>:<period>``:
  exactly once per quest and period; the 5/day cap of §4.2 applies), sets
  ``completed_at`` and adds a celebration and a ``side_quest_completed``
  notification; successors of a chain become available (notification).
- ``side_quest_available`` notifications go out when a quest is published
  (:func:`notify_published`) and when a tier-up unlocks one (in the hook),
  honouring each learner's preferences (§9).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from more_itertools import chunked
from sqlalchemy import select
from sqlalchemy.orm import Session

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import Learner, LearnerQuest, LearnerState, Quest
from thrive.services.catalogs import catalog_in_transaction
from thrive.services.errors import Conflict, NotFound, ThriveError, UnknownLearner
from thrive.services.notifications import sending as notifications
from thrive.services.points.award import AwardContext, register_award_hook
from thrive.services.points.locks import award_tx
from thrive.services.points.registry import Registry, load_registry
from thrive.services.quests.catalog import QuestDef, published, snapshot
from thrive.timeutil import as_utc, platform_week, utcnow

log = logging.getLogger(__name__)

COMPLETION_ACTIVITY = "side_quest_completed"
#: Learners notified per transaction when a quest is published.
NOTIFY_CHUNK = 1000


def quest_event_key(quest_id: int, learner_id: int, period: str) -> str:
    """Event key of the ``side_quest_completed`` award of one run (§4.3)."""
    return f"quest:{quest_id}:{learner_id}:{period}"


def period_for(quest: QuestDef, instant: datetime) -> str:
    """The run period of ``quest`` at ``instant``: ``"once"`` or the platform ISO week."""
    return "once" if quest.repeat == "once" else platform_week(instant)


def tier_allows(registry: Registry, tier_key: str, quest: QuestDef) -> bool:
    """True when a learner at ``tier_key`` has unlocked ``quest`` (tier at or above ``min_tier``)."""
    return registry.tier_index(tier_key) >= registry.tier_index(quest.min_tier)


def completed_quest_ids(session: Session, learner_id: int, quest_ids=None) -> set[int]:
    """Ids of quests the learner completed at least once (optionally among ``quest_ids``)."""
    q = select(LearnerQuest.quest_id).distinct().where(
        LearnerQuest.learner_id == learner_id, LearnerQuest.completed_at.is_not(None))
    if quest_ids is not None:
        q = q.where(LearnerQuest.quest_id.in_(sorted(quest_ids)))
    return set(session.scalars(q))


def start_quest(learner_id: int, quest_id: int, *, now: datetime | None = None) -> LearnerQuest:
    """Start ``quest_id`` for the learner at ``now`` (UTC; defaults to the clock); return the run.

    Only activity that occurs at or after ``now`` counts. Runs under the
    learner's state lock, so it never interleaves with an award.

    Raises:
        NotFound (``unknown_quest``): no such published quest.
        UnknownLearner.
        Conflict: ``quest_closed`` (outside its window), ``quest_locked``
            (tier too low or prerequisite not completed), ``already_started``
            (a run exists for this period), ``already_completed`` (a one-off
            quest done before).
    """
    now = as_utc(now) if now else utcnow()
    registry = load_registry()
    with write_transaction() as session:
        state = session.scalar(select(LearnerState).where(LearnerState.learner_id == learner_id).with_for_update())
        if state is None:
            raise UnknownLearner(f"no learner with id {learner_id}")
        row = session.get(Quest, quest_id)
        if row is None or row.status != "published":
            raise NotFound(f"no published quest with id {quest_id}", code="unknown_quest")
        quest = snapshot(row)
        if not quest.is_open(now):
            raise Conflict("this quest is not open right now", code="quest_closed")
        if not tier_allows(registry, state.tier_key, quest):
            raise Conflict(f"this quest unlocks at {registry.tier(quest.min_tier).name}", code="quest_locked")
        if quest.prerequisite_id and not completed_quest_ids(session, learner_id, [quest.prerequisite_id]):
            raise Conflict("complete the previous quest of the chain first", code="quest_locked")
        period = period_for(quest, now)
        existing = session.scalar(select(LearnerQuest).where(
            LearnerQuest.learner_id == learner_id, LearnerQuest.quest_id == quest_id, LearnerQuest.period == period))
        if existing is not None:
            if existing.completed_at is not None:
                raise Conflict("you completed this quest already", code="already_completed")
            raise Conflict("you started this quest already", code="already_started")
        run = LearnerQuest(learner_id=learner_id, quest_id=quest_id, period=period, started_at=now, progress=0,
                           target=quest.target)
        session.add(run)
        session.flush()
        session.expunge(run)
    return run


# ------------------------------------------------------------------ the award hook

def _counts(quest: QuestDef, run: LearnerQuest, entry) -> bool:
    """Whether the ledger ``entry`` advances ``run`` of ``quest`` (the single progress rule)."""
    at = as_utc(entry.occurred_at)
    if entry.capped or entry.activity_type != quest.activity_type or at < as_utc(run.started_at):
        return False
    if not quest.is_open(at) or not quest.matches_topic(entry.meta):
        return False
    return quest.repeat == "once" or entry.week == run.period


_CATALOG_MEMO = "quests.catalog"


def _may_apply(tx, entry) -> bool:
    """The hook's own early exits, in memory: no quest published, or no tier gained and no quest for the type.

    The catalog it reads is kept for the hook in the award transaction's memo (read once per transaction).
    """
    catalog = catalog_in_transaction(tx, _CATALOG_MEMO, published)
    if not catalog.by_id:
        return False
    if (entry.result or {}).get("tiers_gained"):
        return True
    return not entry.capped and entry.activity_type in catalog.activity_types


@register_award_hook(applies=_may_apply)
def _on_award(ctx: AwardContext) -> None:
    """Award hook: tier-up unlocks, then progress of the learner's open runs (see the module docstring)."""
    catalog = catalog_in_transaction(award_tx(ctx.session), _CATALOG_MEMO, published)
    if not catalog.by_id:
        return
    entry = ctx.entry
    tiers = (entry.result or {}).get("tiers_gained")
    if tiers:
        _notify_unlocked(ctx, catalog, set(tiers))
    if entry.capped or entry.activity_type not in catalog.activity_types:
        return
    ids = [q.id for q in catalog.by_id.values() if q.activity_type == entry.activity_type]
    runs = ctx.session.scalars(select(LearnerQuest).where(
        LearnerQuest.learner_id == ctx.learner_id, LearnerQuest.completed_at.is_(None),
        LearnerQuest.quest_id.in_(ids)).order_by(LearnerQuest.id)).all()
    for run in runs:
        quest = catalog.by_id[run.quest_id]
        if not _counts(quest, run, entry):
            continue
        run.progress = min(run.progress + 1, run.target)
        if run.progress >= run.target:
            _complete(ctx, quest, run, as_utc(entry.occurred_at), catalog)


def _prefs(session: Session, learner_id: int) -> dict:
    return session.scalar(select(Learner.notification_prefs).where(Learner.id == learner_id)) or {}


def _complete(ctx: AwardContext, quest: QuestDef, run: LearnerQuest, at: datetime, catalog) -> None:
    run.completed_at = at
    try:
        result = ctx.award(
            COMPLETION_ACTIVITY, event_key=quest_event_key(quest.id, ctx.learner_id, run.period), occurred_at=at,
            points=quest.reward, description=f"Side quest completed: {quest.title}",
            metadata={"quest_id": quest.id, "quest": quest.title, "topic": quest.topic, "period": run.period},
        )
        run.ledger_entry_id = result.event_id
        points = result.points_awarded
    except ThriveError as exc:  # e.g. the rule disabled: the quest still counts as done
        log.warning("quest %s completed by learner %s but its award was refused: %s", quest.id, ctx.learner_id, exc)
        points = 0
    prefs = _prefs(ctx.session, ctx.learner_id)
    data = {"quest_id": quest.id, "quest": quest.title, "period": run.period, "points": points}
    dedupe = f"side_quest_completed:{quest.id}:{ctx.learner_id}:{run.period}"
    title = f"Side quest complete: {quest.title}"
    body = f"+{points} points" if points else None
    notifications.notify(ctx.session, ctx.learner_id, "side_quest_completed", title, prefs=prefs, body=body,
                         link="/quests", data=data, dedupe_key=dedupe)
    notifications.celebrate(ctx.session, ctx.learner_id, "side_quest", title, body=body, data=data, dedupe_key=dedupe)
    successors = [q for q in catalog.by_id.values() if q.prerequisite_id == quest.id]
    if successors:
        tier_key = ctx.state.tier_key
        registry = ctx.registry
        for succ in successors:
            if succ.is_open(at) and tier_allows(registry, tier_key, succ):
                _notify_available(ctx.session, ctx.learner_id, succ, prefs)


def _notify_available(session: Session, learner_id: int, quest: QuestDef, prefs: dict | None) -> None:
    notifications.notify(session, learner_id, "side_quest_available", f"New side quest: {quest.title}",
                         prefs=prefs, body=quest.description or None, link="/quests",
                         data={"quest_id": quest.id}, dedupe_key=f"side_quest_available:{quest.id}:{learner_id}")


def _notify_unlocked(ctx: AwardContext, catalog, tiers: set[str]) -> None:
    """A tier-up unlocked the quests whose ``min_tier`` is one of ``tiers`` (and whose chain allows it)."""
    at = as_utc(ctx.entry.occurred_at)
    unlocked = [q for q in catalog.by_id.values() if q.min_tier in tiers and q.is_open(at)]
    if not unlocked:
        return
    done = completed_quest_ids(ctx.session, ctx.learner_id,
                               {q.prerequisite_id for q in unlocked if q.prerequisite_id})
    prefs = _prefs(ctx.session, ctx.learner_id)
    for quest in unlocked:
        if quest.prerequisite_id is None or quest.prerequisite_id in done:
            _notify_available(ctx.session, ctx.learner_id, quest, prefs)


def notify_published(quest: QuestDef, *, now: datetime | None = None, active_days: int = 28) -> int:
    """Tell the learners a newly published quest is open to (``side_quest_available``, §9); return how many.

    Open to = an active, non-staff account with an award in the last
    ``active_days`` days, at or above ``min_tier``, with the prerequisite
    completed (if any), while the quest's window is open at ``now``. Learners
    who switched the notification type off are skipped; a repeat adds nothing
    (dedupe key per quest and learner).
    """
    now = as_utc(now) if now else utcnow()
    if not quest.is_open(now):
        return 0
    registry = load_registry()
    tiers = [t.key for t in registry.tiers[max(registry.tier_index(quest.min_tier), 0):]]
    q = (
        select(Learner.id, Learner.notification_prefs)
        .join(LearnerState, LearnerState.learner_id == Learner.id)
        .where(Learner.is_active_account.is_(True), Learner.is_learner.is_(True),
               LearnerState.tier_key.in_(tiers), LearnerState.last_award_at >= now - timedelta(days=active_days))
        .order_by(Learner.id)
    )
    if quest.prerequisite_id:
        q = q.where(Learner.id.in_(select(LearnerQuest.learner_id).where(
            LearnerQuest.quest_id == quest.prerequisite_id, LearnerQuest.completed_at.is_not(None))))
    rows = [(lid, prefs) for lid, prefs in db.session.execute(q) if notifications.wants(prefs, "side_quest_available")]
    db.session.commit()
    sent = 0
    for chunk in chunked(rows, NOTIFY_CHUNK):
        with write_transaction() as session:
            for learner_id, prefs in chunk:
                sent += notifications.notify(
                    session, learner_id, "side_quest_available", f"New side quest: {quest.title}", prefs=prefs,
                    body=quest.description or None, link="/quests", data={"quest_id": quest.id},
                    dedupe_key=f"side_quest_available:{quest.id}:{learner_id}") is not None
    return sent
