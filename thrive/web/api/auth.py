"""Bearer API keys and the per-key rate limit of the integration API (§13, §15).

Every ``/api/v1`` endpoint except the OpenAPI document needs
``Authorization: Bearer <api key>``; a missing, unknown or revoked key is a
401. The key is checked once per request (one indexed query) and kept on
``g``. Requests are rate limited per key (``THRIVE_API_RATE_LIMIT``, shared by
all endpoints; unauthenticated requests count per client address) → 429, counted by
``limits`` with one storage round trip.

``last_used_at`` is written at most once a minute per key and process, in its
own short transaction, so it costs the hot path nothing measurable.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from thrive.services.accounts.api_keys import verify_api_key_cached

from ...db import write_transaction
from ...extensions import csrf, limiter
from ...models import ApiKey
from ...timeutil import utcnow
from ..hooks import json_error
from . import bp, limits

#: Endpoints answered without an API key.
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})
#: ``last_used_at`` resolution (seconds).
TOUCH_INTERVAL = 60.0

_touch_lock = threading.Lock()
_touched: dict[str, float] = {}  # key prefix → monotonic time of the last write
_UNSET = object()


@dataclass(frozen=True)
class ApiClient:
    """The verified API key of the current request (a plain copy, safe after commits)."""

    id: int
    name: str
    prefix: str


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_client() -> ApiClient | None:
    """The request's verified API key (checked once, then cached on ``g``), or None."""
    client = g.get("api_client", _UNSET)
    if client is _UNSET:
        row = verify_api_key_cached(bearer_token())
        client = ApiClient(row.id, row.name, row.prefix) if row is not None else None
        g.api_client = client
    return client


def rate_limit_key() -> str:
    """Flask-Limiter bucket: the API key, or the client address without a valid key."""
    client = current_client()
    return f"api-key:{client.prefix}" if client else f"ip:{get_remote_address()}"


def _rate_limit() -> str:
    return current_app.config["THRIVE_API_RATE_LIMIT"]


def _touch(client: ApiClient) -> None:
    """Record ``last_used_at`` at most once per ``TOUCH_INTERVAL`` per key in this process."""
    now_mono = time.monotonic()
    with _touch_lock:
        last = _touched.get(client.prefix)
        if last is not None and now_mono - last < TOUCH_INTERVAL:
            return
        _touched[client.prefix] = now_mono
    now = utcnow()
    try:
        with write_transaction() as session:
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == client.id,
                       or_(ApiKey.last_used_at.is_(None),
                           ApiKey.last_used_at < now - timedelta(seconds=TOUCH_INTERVAL)))
                .values(last_used_at=now)
            )
    except SQLAlchemyError:  # bookkeeping only: never fail the request for it
        current_app.logger.warning("could not record last_used_at of API key %s", client.prefix, exc_info=True)


@bp.before_request
def require_api_key():
    """429 JSON over the rate limit (counted first, per key or address); 401 JSON unless the request
    carries a valid, unrevoked API key (§13)."""
    limited = limits.check(rate_limit_key(), rate_limit_message)
    if limited is not None:
        return limited
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if bearer_token() is None:
        response = json_error(401, "unauthorized", "send the API key as 'Authorization: Bearer <api key>'")
    elif current_client() is None:
        response = json_error(401, "unauthorized", "the API key is unknown or revoked")
    else:
        _touch(g.api_client)
        return None
    response.headers["WWW-Authenticate"] = 'Bearer realm="thrive"'
    return response


def rate_limit_message() -> str:
    return f"rate limit exceeded ({_rate_limit()} per API key); retry after the seconds in Retry-After"


bp.after_request(limits.add_headers)
csrf.exempt(bp)
limiter.exempt(bp)  # the API's own limit is counted by require_api_key (limits.py), in one storage round trip


@limiter.request_filter
def _counted_by_the_api() -> bool:
    """Flask-Limiter skips API requests before resolving any limit (its exemption alone is checked after)."""
    return request.blueprint == bp.name
