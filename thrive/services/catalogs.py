"""What the admin-edited catalogues of side quests and achievements share (§10, §11, §12).

- **Snapshot cache** (:class:`SnapshotCache`): the quest and achievement award
  hooks read the published side quests and the active achievements on every
  award, so each process keeps one immutable snapshot per database for
  ``THRIVE_REGISTRY_CACHE_SECONDS`` seconds (default 5; 0 turns the cache off),
  like the rule registry. An edit through the owning service calls
  :meth:`SnapshotCache.invalidate`, so it applies at once in that process;
  other processes (gunicorn workers, the scheduler, CLI runs) pick it up when
  their snapshot expires, within the configured lifetime. Built on
  ``cachetools.TTLCache`` (monotonic clock): one cache per configured lifetime,
  keyed by the database URI, so apps bound to different databases in one
  process (tests) never share a snapshot.
- **Keys** (:func:`clean_key`, :func:`ensure_key_free`): 2–64 lowercase
  letters, digits, ``-`` or ``_``, unique within the catalogue.
- **Audit** (:func:`audit_edit`): a staff edit is written to the audit log in
  the edit's own transaction; edits without an actor (seeding) are not.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Generic, TypeVar

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from thrive.services.errors import ValidationError

T = TypeVar("T")

#: Databases one process may hold a snapshot for at once (tests build many apps; production has one).
_MAX_DATABASES = 16


class SnapshotCache(Generic[T]):
    """A per-process, per-database snapshot of ``load()`` that lives ``THRIVE_REGISTRY_CACHE_SECONDS`` seconds.

    ``load`` runs inside an app context and returns an immutable value (never
    ``None``); ``timer`` is the clock in seconds (monotonic; tests pass their
    own). Thread-safe: gunicorn threads of one worker share the snapshot.
    """

    def __init__(self, load: Callable[[], T], *, timer: Callable[[], float] = time.monotonic):
        self._load = load
        self._timer = timer
        self._caches: dict[float, TTLCache] = {}  # lifetime (seconds) → database URI → snapshot
        self._lock = threading.Lock()
        #: (lifetime, database URI) → (expiry, snapshot): the lock-free read of a hit (every award asks ~3 caches)
        self._hot: dict[tuple, tuple[float, T]] = {}

    def get(self) -> T:
        """The current snapshot: the cached one while younger than the lifetime, else a fresh ``load()``."""
        config = current_app.config
        ttl = config.get("THRIVE_REGISTRY_CACHE_SECONDS", 5)
        if not ttl:
            return self._load()
        key = config["SQLALCHEMY_DATABASE_URI"]
        hot = self._hot.get((ttl, key))
        if hot is not None and self._timer() < hot[0]:
            return hot[1]
        with self._lock:
            cache = self._caches.get(ttl)
            if cache is None:
                cache = self._caches[ttl] = TTLCache(_MAX_DATABASES, ttl, timer=self._timer)
            hit = cache.get(key)
        if hit is not None:
            return hit
        value = self._load()
        with self._lock:
            cache[key] = value
            if len(self._hot) >= _MAX_DATABASES:
                self._hot.clear()
            self._hot[(ttl, key)] = (self._timer() + ttl, value)
        return value

    def invalidate(self) -> None:
        """Drop this process's snapshots (call after any edit of the catalogue)."""
        with self._lock:
            self._hot.clear()
            for cache in self._caches.values():
                cache.clear()


KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


def clean_key(value: Any) -> str:
    """``value`` when it is a valid catalogue key; raises :class:`ValidationError` (``invalid_key``)."""
    if not value or not isinstance(value, str) or not KEY_RE.match(value):
        raise ValidationError("key must be 2–64 lowercase letters, digits, '-' or '_'", code="invalid_key")
    return value


def ensure_key_free(session: Session, model, key: str, *, noun: str, except_id: int | None = None) -> None:
    """Raise :class:`ValidationError` (``key_taken``) when another ``model`` row has ``key``.

    ``noun`` names one row in the message (``"a quest"``); ``except_id`` is the
    row being edited, which may keep its own key.
    """
    query = select(model.id).where(model.key == key)
    if except_id is not None:
        query = query.where(model.id != except_id)
    if session.scalar(query):
        raise ValidationError(f"{noun} with key {key!r} exists", code="key_taken")


def audit_edit(session: Session, actor, action: str, target_type: str, target_id: int, before: Any,
               after: Any) -> None:
    """Write a staff edit to the audit log in ``session``'s transaction (§11); nothing without an ``actor``.

    ``actor`` is the staff :class:`~thrive.models.Learner` or ``None``;
    ``before``/``after`` are the definition dataclasses (or ``None`` for a
    creation), stored as plain dicts.
    """
    if actor is None:
        return
    from thrive.services.admin.audit import record

    record(actor, action, target_type, target_id, asdict(before) if before else None,
           asdict(after) if after else None, session=session)


def catalog_in_transaction(tx, key: str, load: Callable[[], T]) -> T:
    """The catalog ``load()`` returns, read once per award transaction and kept in ``tx.memo[key]``.

    Shared by the quest and achievement award hooks: their ``applies`` check and the hook itself read
    the same snapshot (``tx`` is the award transaction of ``thrive.services.points.award``).
    """
    catalog = tx.memo.get(key)
    if catalog is None:
        catalog = tx.memo[key] = load()
    return catalog

