"""The scheduler's jobs (§6.3): thin functions over services, with their schedules and periods.

Each :class:`Job` knows its cron schedule (platform time zone,
``THRIVE_TIMEZONE``), how to name the period due at an instant
(:meth:`Job.latest_period`), how to validate a period given by hand
(:meth:`Job.parse_period`) and which service does the work. Everything runs
through :func:`thrive.services.job_runs.run_job` (recorded, locked, once per
period) — from ``scheduler.py``, ``flask thrive run-job`` and the admin jobs
page alike.

| job | schedule (platform time) | period |
|---|---|---|
| ``assign_circles`` | Monday 00:00 | the new ISO week |
| ``create_goals`` | Monday 00:05 | the new ISO week |
| ``streaks`` | hourly at :00 (at-risk reminders inside) | the hour, as a UTC instant ``YYYY-MM-DDTHH:MMZ`` |
| ``weekly_recap`` | Monday 08:00 | the ISO week that ended |
| ``admin_dashboard`` | every 5 minutes | the 5-minute slot, as a UTC instant ``YYYY-MM-DDTHH:MMZ`` |

:func:`catch_up` runs, for every job, the period most recently due if it has
not succeeded yet — what ``scheduler.py`` does on start, so a Monday (or an
hour) missed while the scheduler was down runs once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from thrive.services.errors import ValidationError, validate_week
from thrive.services.job_runs import JobOutcome, run_job

from .timeutil import as_utc, parse_week, platform_timezone_name, shift_week, utcnow, week_label, zone

PERIOD_HOUR_FORMAT = "%Y-%m-%dT%H:%MZ"


# ------------------------------------------------------------------ the work (thin)

def assign_circles_job(period: str) -> dict[str, Any]:
    """Place the week's active learners in Thrive Circles (§6.1) — ``services.circles``."""
    from thrive.services.weekly.circles import assign_circles  # imported lazily: its own area

    return assign_circles(period)


def create_goals_job(period: str) -> dict[str, Any]:
    """Create the week's weekly goals for active learners (§6.2)."""
    from thrive.services.weekly.goals import create_weekly_goals

    return create_weekly_goals(period)


def streaks_job(period: str) -> dict[str, Any]:
    """Streak bonuses, grace days, broken streaks and at-risk reminders as of the hour (§5.3, §6.3).

    Also settles circle goals reached this week whose bonuses are still due (§6.1 catch-up).
    """
    from thrive.services.progression.streak_job import run_streaks
    from thrive.services.weekly.circles import settle_circle_goals

    at = parse_instant(period)
    counts = run_streaks(at)
    # Catch-up for circle goals whose post-commit bonus step was interrupted (idempotent, §6.1).
    settled = settle_circle_goals(week_label(at.astimezone(zone(platform_timezone_name())).date()), now=at)
    counts["circle_goal_bonuses"] = settled["awarded"]
    return counts


def weekly_recap_job(period: str) -> dict[str, Any]:
    """Send last week's personal recaps (§9)."""
    from thrive.services.weekly.recap import send_weekly_recaps

    return send_weekly_recaps(period)


def admin_dashboard_job(period: str) -> dict[str, Any]:
    """Recompute the admin dashboard's figures into its stored snapshot (§11), as of the clock."""
    from thrive.services.admin.dashboard_snapshot import refresh

    return refresh()


# ------------------------------------------------------------------ periods

def _weekly_fire(week: str, at: time, tz_name: str) -> datetime:
    """UTC instant of ``at`` (local platform time) on the Monday of ``week``."""
    return datetime.combine(parse_week(week), at, tzinfo=zone(tz_name)).astimezone(UTC)


def weekly_period(now: datetime, at: time, tz_name: str | None = None) -> str:
    """The week whose Monday ``at`` (platform time) is the latest such instant at or before ``now``."""
    tz_name = tz_name or platform_timezone_name()
    week = week_label(as_utc(now).astimezone(zone(tz_name)).date())
    if as_utc(now) < _weekly_fire(week, at, tz_name):
        week = shift_week(week, -1)
    return week


def hour_period(now: datetime, tz_name: str | None = None) -> str:
    """The latest top of a platform-time hour at or before ``now``, as a UTC label ``YYYY-MM-DDTHH:MMZ``."""
    local = as_utc(now).astimezone(zone(tz_name or platform_timezone_name()))
    top = local.replace(minute=0, second=0, microsecond=0)
    return top.astimezone(UTC).strftime(PERIOD_HOUR_FORMAT)


def slot_period(now: datetime, minutes: int = 5) -> str:
    """The latest UTC instant at or before ``now`` whose minute is a multiple of ``minutes`` (``YYYY-MM-DDTHH:MMZ``)."""
    at = as_utc(now)
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0).strftime(PERIOD_HOUR_FORMAT)


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset; naive = UTC) as a UTC datetime.

    Raises :class:`ValidationError` if malformed.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("an ISO 8601 instant is required, e.g. 2026-03-08T07:00Z", code="invalid_instant")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValidationError(f"not an ISO 8601 instant: {value!r} (e.g. 2026-03-08T07:00Z)",
                              code="invalid_instant") from exc


def _parse_hour_period(value: str) -> str:
    return parse_instant(value).replace(second=0, microsecond=0).strftime(PERIOD_HOUR_FORMAT)


def _parse_slot_period(value: str) -> str:
    return slot_period(parse_instant(value))


@dataclass(frozen=True)
class Job:
    """One scheduled job: name, human title, cron fields (APScheduler ``CronTrigger`` kwargs,
    platform time), its period logic and its work (``run(period) -> counts``)."""

    name: str
    title: str
    cron: dict[str, Any]
    _latest: Callable[[datetime], str]
    _parse: Callable[[str], str]
    run: Callable[[str], dict[str, Any]]

    def latest_period(self, now: datetime | None = None) -> str:
        """The period most recently due at ``now`` (UTC instant; default the clock)."""
        return self._latest(as_utc(now) if now else utcnow())

    def parse_period(self, value: str) -> str:
        """Validate and normalise a period given by hand; :class:`ValidationError` if malformed."""
        return self._parse(value)


MONDAY_00_00 = time(0, 0)
MONDAY_00_05 = time(0, 5)
MONDAY_08_00 = time(8, 0)

#: The jobs in catch-up order (circles, then goals, then streaks, then the recap, then the admin dashboard).
JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("assign_circles", "Thrive Circle assignment", {"day_of_week": "mon", "hour": 0, "minute": 0},
            lambda now: weekly_period(now, MONDAY_00_00), validate_week, assign_circles_job),
        Job("create_goals", "Weekly goal creation", {"day_of_week": "mon", "hour": 0, "minute": 5},
            lambda now: weekly_period(now, MONDAY_00_05), validate_week, create_goals_job),
        Job("streaks", "Streaks (bonuses, grace days, at-risk reminders)", {"minute": 0},
            hour_period, _parse_hour_period, streaks_job),
        Job("weekly_recap", "Weekly recap notifications", {"day_of_week": "mon", "hour": 8, "minute": 0},
            lambda now: shift_week(weekly_period(now, MONDAY_08_00), -1), validate_week, weekly_recap_job),
        Job("admin_dashboard", "Admin dashboard figures", {"minute": "*/5"},
            slot_period, _parse_slot_period, admin_dashboard_job),
    )
}


def get_job(name: str) -> Job:
    """The job called ``name``; :class:`ValidationError` (code ``unknown_job``) otherwise."""
    try:
        return JOBS[name]
    except KeyError:
        raise ValidationError(f"unknown job {name!r}; jobs: {', '.join(JOBS)}", code="unknown_job") from None


def run(name: str, period: str | None = None, *, now: datetime | None = None, force: bool = False) -> JobOutcome:
    """Run job ``name`` for ``period`` (default: the period due at ``now``) through the job-run framework.

    Raises :class:`ValidationError` for an unknown job or a malformed period.
    """
    job = get_job(name)
    period = job.parse_period(period) if period else job.latest_period(now)
    return run_job(name, period, lambda: job.run(period), force=force)


def catch_up(now: datetime | None = None, names: Iterable[str] | None = None) -> list[JobOutcome]:
    """Run every job's period most recently due at ``now`` unless it already succeeded (§6.3).

    Called by ``scheduler.py`` on start: a Monday's circles/goals/recap or the
    last hour's streaks missed while the scheduler was down run once; periods
    already done are skipped (and recorded nowhere). ``names`` restricts the
    jobs (default: all, in :data:`JOBS` order). Returns the outcomes of the
    jobs considered.
    """
    now = as_utc(now) if now else utcnow()
    outcomes = []
    for name in names or JOBS:
        job = get_job(name)
        outcomes.append(run_job(name, job.latest_period(now), (lambda j=job, p=job.latest_period(now): j.run(p))))
    return outcomes

