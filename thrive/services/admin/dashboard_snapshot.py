"""The admin dashboard's stored snapshot (§11, issue 8): computed by the scheduler, read by the page.

The ``admin_dashboard`` job (:mod:`thrive.jobs`, every :data:`REFRESH_MINUTES`
minutes, through the locked job-run framework so one process computes at a
time) calls :func:`refresh`, which computes every figure
(:func:`thrive.services.admin.dashboard.compute`) and replaces the one stored
row. :func:`latest` returns it to any gunicorn worker — one primary-key read —
unless it is older than ``THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS``
(default 900 s: three missed runs), in which case the page computes live.
The job runs list is never stored: it is read live on every view.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import current_app

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import DashboardSnapshot
from thrive.timeutil import as_utc, utcnow

#: How often the scheduler recomputes the dashboard (minutes; the job's cron is ``*/REFRESH_MINUTES``).
REFRESH_MINUTES = 5
#: A snapshot older than this (seconds) is ignored and the page computes live (scheduler down).
DEFAULT_MAX_AGE_SECONDS = 900
SNAPSHOT_ID = 1


def to_data(d) -> dict[str, Any]:
    """A :class:`~thrive.services.admin.dashboard.Dashboard` as JSON-able data (without job runs)."""
    return {
        "week": d.week, "weeks": [asdict(w) for w in d.weeks], "tiers": [asdict(s) for s in d.tiers],
        "levels": [asdict(s) for s in d.levels], "streaks": [asdict(s) for s in d.streaks],
        "streak_base": d.streak_base, "sources": [asdict(s) for s in d.sources],
        "circles": asdict(d.circles), "circles_previous": asdict(d.circles_previous),
    }


def from_data(data: dict[str, Any], computed_at: datetime):
    """The :class:`~thrive.services.admin.dashboard.Dashboard` stored by :func:`to_data` (``from_snapshot`` set)."""
    from thrive.services.admin.dashboard import CircleFigures, Dashboard, Share, SourceRow, WeekRow

    return Dashboard(
        week=data["week"], computed_at=as_utc(computed_at), weeks=[WeekRow(**w) for w in data["weeks"]],
        tiers=[Share(**s) for s in data["tiers"]], levels=[Share(**s) for s in data["levels"]],
        streaks=[Share(**s) for s in data["streaks"]], streak_base=data["streak_base"],
        sources=[SourceRow(**s) for s in data["sources"]], circles=CircleFigures(**data["circles"]),
        circles_previous=CircleFigures(**data["circles_previous"]), from_snapshot=True,
    )


def refresh(now: datetime | None = None) -> dict[str, Any]:
    """Compute the dashboard as of ``now`` (UTC instant; default the clock) and store it as the snapshot.

    Returns the job's counts: ``{"week", "computed_at" (ISO UTC), "seconds"}``.
    """
    from thrive.services.admin.dashboard import compute

    started = time.perf_counter()
    d = compute(as_utc(now) if now else None)
    seconds = round(time.perf_counter() - started, 3)
    data = to_data(d)
    with write_transaction() as session:
        row = session.get(DashboardSnapshot, SNAPSHOT_ID)
        if row is None:
            session.add(DashboardSnapshot(id=SNAPSHOT_ID, computed_at=d.computed_at, seconds=seconds, data=data))
        else:
            row.computed_at, row.seconds, row.data = d.computed_at, seconds, data
    return {"week": d.week, "computed_at": d.computed_at.isoformat(), "seconds": seconds}


def max_age_seconds() -> int:
    """``THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS`` (default :data:`DEFAULT_MAX_AGE_SECONDS`; 0 = never use)."""
    return int(current_app.config.get("THRIVE_ADMIN_DASHBOARD_SNAPSHOT_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS))


def latest(now: datetime | None = None):
    """The stored dashboard if it is at most :func:`max_age_seconds` old at ``now`` (default the clock), else None."""
    limit = max_age_seconds()
    if limit <= 0:
        return None
    row = db.session.get(DashboardSnapshot, SNAPSHOT_ID)
    if row is None:
        db.session.commit()
        return None
    computed_at, data = as_utc(row.computed_at), row.data
    db.session.commit()
    if ((as_utc(now) if now else utcnow()) - computed_at).total_seconds() > limit:
        return None
    return from_data(data, computed_at)
