"""Time helpers: UTC instants, learners' local dates and platform ISO weeks (§3).

Conventions used across Thrive:
- an *instant* is a timezone-aware ``datetime`` in UTC;
- a *local date* is a ``date`` in a learner's IANA time zone (streaks, daily caps);
- a *week* is the platform ISO week label ``"YYYY-Www"`` in ``THRIVE_TIMEZONE``
  (weekly caps, weekly points, circles, goals); weeks start Monday 00:00.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC instant (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_iso(instant: datetime) -> str:
    """ISO 8601 in UTC to the second ("2026-12-03T09:15:00Z"), for ``<time datetime>``; naive = UTC."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; raises ``ValueError`` for unknown names."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_valid_timezone(name: str) -> bool:
    """True when ``name`` is a known IANA time zone."""
    try:
        zone(name)
        return True
    except ValueError:
        return False


@lru_cache(maxsize=1)
def timezone_names() -> list[str]:
    """Sorted IANA time zone names (for settings forms)."""
    return sorted(n for n in available_timezones() if "/" in n or n == "UTC")


def platform_timezone_name() -> str:
    """``THRIVE_TIMEZONE`` of the current app, ``"UTC"`` outside an app context."""
    if has_app_context():
        return current_app.config.get("THRIVE_TIMEZONE", "UTC")
    return "UTC"


def local_date(instant: datetime, tz_name: str) -> date:
    """The calendar date of ``instant`` in time zone ``tz_name``."""
    return as_utc(instant).astimezone(zone(tz_name)).date()


@lru_cache(maxsize=4096)
def week_label(d: date) -> str:
    """ISO week label ``YYYY-Www`` of a date (e.g. 2027-01-01 → ``2026-W53``)."""
    iso = d.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def platform_week(instant: datetime, tz_name: str | None = None) -> str:
    """Platform ISO week label of a UTC instant (``THRIVE_TIMEZONE`` unless given)."""
    return week_label(local_date(instant, tz_name or platform_timezone_name()))


def parse_week(label: str) -> date:
    """Monday (a date) of ISO week ``YYYY-Www``; raises ``ValueError`` if malformed."""
    m = WEEK_RE.match(label or "")
    if not m:
        raise ValueError(f"week must look like 2026-W05, got {label!r}")
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"no such ISO week: {label}") from exc


def week_start_instant(label: str, tz_name: str | None = None) -> datetime:
    """UTC instant of Monday 00:00 (platform time) starting ISO week ``label``."""
    monday = parse_week(label)
    local = datetime.combine(monday, time(0, 0), tzinfo=zone(tz_name or platform_timezone_name()))
    return local.astimezone(UTC)


def shift_week(label: str, weeks: int) -> str:
    """The ISO week ``weeks`` weeks after ``label`` (negative: before)."""
    return week_label(parse_week(label) + timedelta(weeks=weeks))


def local_day_bounds(d: date, tz_name: str) -> tuple[datetime, datetime]:
    """UTC instants ``[start, end)`` of local date ``d`` in ``tz_name`` (DST-aware)."""
    tz = zone(tz_name)
    start = datetime.combine(d, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
    return start, end
