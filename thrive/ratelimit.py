"""Flask-Limiter's fixed window in one storage round trip per request (§13, §15; issue 12 item 2).

Flask-Limiter's default ``fixed-window`` strategy costs three Redis commands
per rate-limited request: the hit (``INCRBY``/``EXPIRE`` script), then a
``GET`` and a ``TTL`` for the ``X-RateLimit-Remaining``/``-Reset`` headers
(``RATELIMIT_HEADERS_ENABLED``). :class:`OneTripFixedWindow` is the same
fixed window (same keys, same counters, same limits, so it can share a
Redis with the stock strategy) whose ``hit`` runs one script returning the new
count *and* the window's time to live; the window stats of the keys hit in the
current request are remembered on ``flask.g`` and answer the headers without
asking the storage again. Other storages (``memory://`` in tests) take the
library's ``incr`` plus a local expiry look-up, remembered the same way.

The headers therefore describe the window as this request left it (its own
hit included, not hits of concurrent requests that landed between the hit
and the headers) — what a client needs to pace itself.

Registered as the ``thrive-fixed-window`` strategy of ``limits`` (Flask-Limiter
resolves its ``strategy`` argument there); ``thrive/extensions.py`` selects it.
"""
from __future__ import annotations

import time

from flask import g, has_app_context
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter
from limits.util import WindowStats

#: Name of the strategy in ``limits.strategies.STRATEGIES`` (Flask-Limiter's ``strategy=``).
STRATEGY = "thrive-fixed-window"

#: INCRBY (+ EXPIRE when the window starts, exactly as limits' ``incr_expire.lua``), then the TTL: one round trip.
_HIT_SCRIPT = """
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if tonumber(current) == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""

_G_KEY = "_thrive_ratelimit_windows"


class OneTripFixedWindow(FixedWindowRateLimiter):
    """``limits``' fixed window whose hit also yields the window stats (no extra storage calls for headers)."""

    def __init__(self, storage):
        super().__init__(storage)
        self._script = None
        if isinstance(storage, RedisStorage):
            self._script = storage.get_connection().register_script(_HIT_SCRIPT)

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Consume ``cost`` of the limit; True when it was not exceeded. Remembers the window for the headers."""
        key = item.key_for(*identifiers)
        if self._script is not None:
            count, ttl = self._script([self.storage.prefixed_key(key)], [item.get_expiry(), cost])
            count, reset = int(count), max(int(ttl), 0) + time.time()
        else:
            count = self.storage.incr(key, item.get_expiry(), amount=cost)
            reset = self.storage.get_expiry(key)
        if has_app_context():
            windows = g.get(_G_KEY)
            if windows is None:
                windows = g.setdefault(_G_KEY, {})
            windows[key] = WindowStats(reset, max(0, item.amount - count))
        return count <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """(reset time, remaining): the window as this request's hit left it, else asked from the storage."""
        if has_app_context():
            window = (g.get(_G_KEY) or {}).get(item.key_for(*identifiers))
            if window is not None:
                return window
        return super().get_window_stats(item, *identifiers)


STRATEGIES[STRATEGY] = OneTripFixedWindow
