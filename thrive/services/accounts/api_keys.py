"""Integration API keys (§13): created once, stored as SHA-256, revocable."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import bindparam, func, select

from thrive.extensions import db
from thrive.models import ApiKey
from thrive.services.errors import NotFound, ValidationError
from thrive.timeutil import utcnow

KEY_PREFIX = "thr"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(name: str, *, commit: bool = True) -> tuple[ApiKey, str]:
    """Create a key named ``name``; return (row, plaintext key ``thr_<prefix>_<secret>``).

    The plaintext is shown once and never stored. Raises ``ValidationError`` for an empty name.
    ``commit=False`` only flushes (the caller's transaction — e.g. an audited admin action — commits).
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("API key name must be 1–100 characters")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secret}"
    row = ApiKey(name=name, prefix=prefix, key_hash=_hash(plaintext))
    db.session.add(row)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row, plaintext


def verify_api_key(plaintext: str | None) -> ApiKey | None:
    """The active key matching ``plaintext``, or None (unknown, malformed or revoked)."""
    if not plaintext:
        return None
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(plaintext)):
        return None
    return row


def _verify_outside_session(plaintext: str):
    """:func:`verify_api_key`'s checks on a row read with :func:`_read` (id, name, prefix), or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = _read(_KEY_BY_PREFIX, {"prefix": parts[1]})
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(plaintext)):
        return None
    return row


@dataclass(frozen=True)
class VerifiedKey:
    """What a request needs of a verified key (a plain copy, safe to cache)."""

    id: int
    name: str
    prefix: str


#: ttl (seconds) → cachetools TTLCache of (database URI, key hash) → VerifiedKey; one per configured lifetime.
_verified: dict[float, TTLCache] = {}
_verified_lock = threading.Lock()
_MAX_CACHED_KEYS = 1024
#: database URI → (next check, monotonic clock; revoked keys seen): the cross-process revocation signal.
_revocations: dict[str, tuple[float, int]] = {}
#: How often a process re-reads the revocation count (seconds): a revocation takes effect everywhere within it.
REVOCATION_CHECK_SECONDS = 1.0


#: The revocation signal: how many keys are revoked (revocation is final, so the count only grows).
_REVOKED_COUNT = select(func.count(ApiKey.id)).where(ApiKey.revoked_at.is_not(None))
#: What a cache miss reads of a key, by prefix.
_KEY_BY_PREFIX = select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.key_hash, ApiKey.revoked_at).where(
    ApiKey.prefix == bindparam("prefix"))


def _read(statement, params: dict | None = None):
    """The first row of a small read made for the request's API key, outside the request's transaction.

    On PostgreSQL it runs on an autocommit connection — one round trip (the statement), no
    BEGIN/COMMIT — so the request's session begins its transaction with its write (§15, issue 12).
    On SQLite (in-process, no round trip to save) it is an ordinary session read.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return conn.execute(statement, params or {}).first()
    return db.session.execute(statement, params or {}).first()


def _drop_cache_on_revocation(uri: str, now: float) -> None:
    """At most once per :data:`REVOCATION_CHECK_SECONDS`, count revoked keys; a change clears the cache.

    Revoking in any process (web, CLI, another gunicorn worker) is thus seen by
    every process within a second, at the price of one tiny query per second.
    """
    seen = _revocations.get(uri)
    if seen and now < seen[0]:
        return
    revoked = _read(_REVOKED_COUNT)[0] or 0
    with _verified_lock:
        if seen is None or seen[1] != revoked:
            _verified.clear()
        _revocations[uri] = (now + REVOCATION_CHECK_SECONDS, revoked)


def verify_api_key_cached(plaintext: str | None) -> VerifiedKey | None:
    """:func:`verify_api_key` with a per-process cache of *valid* keys (§13 hot path).

    A valid key is remembered for ``THRIVE_API_KEY_CACHE_SECONDS`` (default 10)
    seconds, so a busy integration does not pay a query per request; unknown or
    revoked keys are never cached. Revoking through :func:`revoke_api_key`
    clears this process's cache at once; other processes notice within
    :data:`REVOCATION_CHECK_SECONDS` (1 s, :func:`_drop_cache_on_revocation`).
    Both reads (the poll, a cache miss) are made outside the request's transaction (:func:`_read`).
    """
    if not plaintext:
        return None
    ttl = current_app.config.get("THRIVE_API_KEY_CACHE_SECONDS", 10)
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cache_key = (uri, _hash(plaintext))
    cache = None
    if ttl:
        _drop_cache_on_revocation(uri, time.monotonic())
        with _verified_lock:
            cache = _verified.get(ttl)
            if cache is None:
                cache = _verified[ttl] = TTLCache(_MAX_CACHED_KEYS, ttl)
            hit = cache.get(cache_key)
        if hit is not None:
            return hit
    row = _verify_outside_session(plaintext)
    if row is None:
        return None
    info = VerifiedKey(row.id, row.name, row.prefix)
    if cache is not None:
        with _verified_lock:
            cache[cache_key] = info
    return info


def revoke_api_key(key_id_or_prefix: str | int, *, commit: bool = True) -> ApiKey:
    """Revoke a key by id or prefix; raises ``NotFound``. ``commit=False`` only flushes (caller commits)."""
    q = select(ApiKey)
    if isinstance(key_id_or_prefix, int) or str(key_id_or_prefix).isdigit():
        q = q.where(ApiKey.id == int(key_id_or_prefix))
    else:
        q = q.where(ApiKey.prefix == str(key_id_or_prefix))
    row = db.session.scalar(q)
    if row is None:
        raise NotFound(f"no API key {key_id_or_prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit() if commit else db.session.flush()
    with _verified_lock:
        for cache in _verified.values():
            cache.clear()
    return row


def list_api_keys() -> list[ApiKey]:
    """All keys, newest first."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))
