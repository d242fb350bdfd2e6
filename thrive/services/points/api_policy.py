"""What API callers may award, on top of the event validator (§4.2, §13; issue 10 defect 8).

- A rule's ``api_allowed`` flag says whether callers may award its activity
  type; system-only types (daily visits, streak, goal and circle bonuses,
  side quests, achievements — ``defaults.SYSTEM_ONLY_ACTIVITY_TYPES``) are
  awarded by Thrive itself and answer 422 ``not_api_awardable``.
- ``occurred_at`` may lie at most ``THRIVE_API_MAX_BACKDATE_DAYS`` days
  (default 30) in the past: 422 ``occurred_at_too_old``. The CLI import
  (``flask thrive import``, OULAD) replays history and is not bound.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from thrive.services.errors import ThriveError
from thrive.services.points.registry import load_registry
from thrive.timeutil import as_utc, utcnow

DEFAULT_MAX_BACKDATE_DAYS = 30


def check_api_event(activity_type: str, occurred_at: datetime | None, *, now: datetime | None = None) -> None:
    """Raise ``ThriveError`` (422) when an API caller may not award this event; unknown types pass (award() says so).

    ``occurred_at``: the event's instant (None = now); ``now``: the current UTC instant (tests).
    """
    rule = load_registry().rules.get(activity_type)
    if rule is not None and not rule.api_allowed:
        raise ThriveError(f"{activity_type!r} is awarded by Thrive itself and cannot be awarded through the API",
                          code="not_api_awardable", status=422)
    if occurred_at is None or occurred_at.year < 1971:
        return  # the event validator rejects the ancient ones with a clear message
    days = int(current_app.config.get("THRIVE_API_MAX_BACKDATE_DAYS", DEFAULT_MAX_BACKDATE_DAYS))
    now = as_utc(now) if now else utcnow()
    if days >= 0 and as_utc(occurred_at) < now - timedelta(days=days):
        raise ThriveError(f"occurred_at may lie at most {days} days in the past through the API",
                          code="occurred_at_too_old", status=422)
