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


#: ``shared_lock(tx, activity_type, week) -> int | None``: an advisory lock key a hook will need shared for an
#: award of ``activity_type`` in the platform ISO ``week`` (PostgreSQL), or None.
SharedLockKey = Callable[[AwardTx, str, str], "int | None"]
_shared_lock_keys: list[SharedLockKey] = []


def register_shared_lock(key: SharedLockKey) -> SharedLockKey:
    """Let the award's locking statement take an advisory lock shared, for a hook (PostgreSQL, at import time).

    ``key(tx, activity_type, week)`` answers before the learner is locked, from what the request tells
    (the award's platform ISO week does not depend on the learner): an advisory lock key (bigint) or None.
    The first key given is locked (``pg_advisory_xact_lock_shared``) in the statement that locks the
    learner's state row, and recorded with :func:`holds_shared_lock`; a later statement of the transaction
    then sees everything committed by a holder of the exclusive lock. Keeps its own statement otherwise.
    """
    if key not in _shared_lock_keys:
        _shared_lock_keys.append(key)
    return key


def shared_lock_for(tx: AwardTx, activity_type: str, week: str) -> int | None:
    """The advisory key the locking statement should take shared for this award (None: none)."""
    for provider in _shared_lock_keys:
        key = provider(tx, activity_type, week)
        if key is not None:
            return key
    return None


def holds_shared_lock(tx: AwardTx, key: int) -> bool:
    """Whether an award's locking statement of this transaction took advisory lock ``key`` shared."""
    return ("shared_lock", key) in tx.memo
