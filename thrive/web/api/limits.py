"""The per-key rate limit of ``/api/v1`` in one storage round trip (§13, §15; issue 12 item 2).

``THRIVE_API_RATE_LIMIT`` (e.g. ``"600 per minute"``; several separated by
``;``) is shared by every endpoint of the API and counted per API key, or per
client address for a request without a valid key. It is checked before the
key (an unauthenticated flood is limited too) and over it the answer is 429
``rate_limited`` with ``Retry-After``; every API answer carries
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (``RATELIMIT_HEADERS_ENABLED``).

The counting is Flask-Limiter's: its storage (``RATELIMIT_STORAGE_URI``, Redis
in production, shared by the workers), its strategy
(:class:`thrive.ratelimit.OneTripFixedWindow`: the hit answers the headers
too), its storage keys (``LIMITER/<RATELIMIT_KEY_PREFIX>/<bucket>/api/…``, so
the counters carry over from the decorator this replaces) and its header
settings. Only the per-request dispatch is done here — a before/after hook of
the blueprint instead of Flask-Limiter's limit resolution, which cost more
CPU than the Redis command itself. The blueprint is exempt from
Flask-Limiter's own checks (no application-wide limits are configured).
"""
from __future__ import annotations

import time
from functools import lru_cache

from flask import current_app, g
from limits import RateLimitItem, parse_many
from werkzeug.http import http_date

from ...extensions import limiter
from ..hooks import json_error

#: The limits' scope in the storage keys (the ``scope`` of the former ``shared_limit``).
SCOPE = "api"
_HEADER_DEFAULTS = {"RATELIMIT_HEADER_LIMIT": "X-RateLimit-Limit",
                    "RATELIMIT_HEADER_REMAINING": "X-RateLimit-Remaining",
                    "RATELIMIT_HEADER_RESET": "X-RateLimit-Reset",
                    "RATELIMIT_HEADER_RETRY_AFTER": "Retry-After"}


@lru_cache(maxsize=32)
def _items(text: str) -> tuple[RateLimitItem, ...]:
    """The parsed limits of a ``THRIVE_API_RATE_LIMIT`` string, smallest window first."""
    return tuple(sorted(parse_many(text)))


def _args(bucket: str) -> list[str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return [prefix, bucket, SCOPE] if prefix else [bucket, SCOPE]


def check(bucket: str, message) -> object | None:
    """Count this request against the API limits of ``bucket``; the 429 response when one is exceeded, else None.

    ``message()`` gives the 429's message. Remembers the limit for :func:`add_headers`. Storage errors
    propagate (a JSON 500) unless ``RATELIMIT_SWALLOW_ERRORS`` is set (then the request is let through).
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    args = _args(bucket)
    strategy = limiter.limiter
    try:
        items = _items(config["THRIVE_API_RATE_LIMIT"])
        for item in items:  # like Flask-Limiter: every limit counted up to the first one exceeded
            if not strategy.hit(item, *args):
                g.api_rate_limit = (item, args)  # the headers describe the exceeded limit
                return json_error(429, "rate_limited", message())
        g.api_rate_limit = (items[0], args)  # … else the smallest window's
    except Exception:
        if not config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        current_app.logger.exception("API rate limit storage failed; request let through")
        g.pop("api_rate_limit", None)
    return None


def add_headers(response):
    """``X-RateLimit-*`` and ``Retry-After`` of the limit this request counted against (as Flask-Limiter)."""
    limit = g.get("api_rate_limit")
    config = current_app.config
    if limit is None or not config.get("RATELIMIT_HEADERS_ENABLED"):
        return response
    item, args = limit
    reset_at, remaining = limiter.limiter.get_window_stats(item, *args)  # from the hit: no storage call
    reset_at = int(reset_at + 1)
    names = {key: config.get(key) or default for key, default in _HEADER_DEFAULTS.items()}
    headers = response.headers
    headers[names["RATELIMIT_HEADER_LIMIT"]] = str(item.amount)
    headers[names["RATELIMIT_HEADER_REMAINING"]] = str(remaining)
    headers[names["RATELIMIT_HEADER_RESET"]] = str(reset_at)
    headers[names["RATELIMIT_HEADER_RETRY_AFTER"]] = (
        http_date(reset_at) if config.get("RATELIMIT_HEADER_RETRY_AFTER_VALUE") == "http-date"
        else str(int(reset_at - time.time())))
    return response
