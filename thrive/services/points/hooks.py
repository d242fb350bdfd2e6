"""Award hooks: services that react inside every award transaction (goals, circles, quests, achievements, §4.1).

A hook is registered once at import time with :func:`register_award_hook` and is called by
``award()`` after the entry is queued, in the same transaction, with an :class:`AwardContext`.
An optional ``applies(tx, entry)`` answers cheaply whether the hook can change anything for
the entry; when it answers False the hook is skipped (no statements at all).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from thrive.models import LedgerEntry
from thrive.services.points.locks import AwardTx, StateRow
from thrive.services.points.registry import Registry, RuleSnapshot
from thrive.services.points.request import AwardResult

#: Nested awards (a goal completed by an award…) go at most this deep.
MAX_HOOK_DEPTH = 3


@dataclass
class AwardContext:
    """Passed to award hooks inside the award transaction.

    ``award(activity_type, event_key=…, points=…, …)`` makes a nested award for
    the same learner in the same transaction (e.g. ``weekly_goal_completed``).
    """

    session: Session
    learner_id: int
    learner_timezone: str
    state: StateRow
    entry: LedgerEntry
    rule: RuleSnapshot
    registry: Registry
    depth: int
    award: Callable[..., AwardResult]


AwardHook = Callable[[AwardContext], None]
#: ``applies(tx, entry) -> bool``: a cheap test whether a hook can have any effect on an entry.
HookApplies = Callable[[AwardTx, LedgerEntry], bool]
_award_hooks: list[AwardHook] = []
_hook_applies: dict[AwardHook, HookApplies] = {}


def register_award_hook(hook: AwardHook | None = None, *, applies: HookApplies | None = None):
    """Register ``hook(ctx)`` to run inside every award transaction after the entry is written.

    Hooks see capped entries too (``ctx.entry.capped``) and must be idempotent
    under the award's event key. Usable as a decorator, bare or as
    ``@register_award_hook(applies=…)``: ``applies(tx, entry)`` tells cheaply
    (in memory, or memoised per transaction in ``tx.memo``) whether the hook can
    change anything for this entry; when it answers False the hook is skipped
    and the entry may be written later in a multi-row insert (§15).
    """
    def add(fn: AwardHook) -> AwardHook:
        if fn not in _award_hooks:
            _award_hooks.append(fn)
        if applies is not None:
            _hook_applies[fn] = applies
        return fn

    return add(hook) if hook is not None else add


def _always(_tx: AwardTx, _entry: LedgerEntry) -> bool:
    return True
