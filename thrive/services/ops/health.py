"""Readiness of a Thrive process (§15): database reachable, migrations at head, scheduler alive.

``/readyz`` answers 200 only when every check passes; otherwise 503 naming the
failing checks. The scheduler writes its heartbeat every
:data:`HEARTBEAT_SECONDS` (``scheduler.py``); it is *recent* when younger than
``THRIVE_READY_HEARTBEAT_MAX_AGE`` seconds (default 180).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import SchedulerHeartbeat
from thrive.timeutil import as_utc, utcnow

HEARTBEAT_SECONDS = 60
SCHEDULER_NAME = "scheduler"


@dataclass(frozen=True)
class Check:
    """One readiness check: ``ok`` and a short machine-readable ``detail``."""

    name: str
    ok: bool
    detail: str


def beat(name: str = SCHEDULER_NAME, now: datetime | None = None) -> None:
    """Record that the scheduler process ``name`` is alive now (upsert of its heartbeat row)."""
    now = as_utc(now) if now else utcnow()
    with write_transaction() as session:
        row = session.get(SchedulerHeartbeat, name)
        if row is None:
            session.add(SchedulerHeartbeat(name=name, beat_at=now, pid=os.getpid()))
        else:
            row.beat_at, row.pid = now, os.getpid()


def _database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        return Check("database", True, "reachable")
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("database", False, f"unreachable: {type(exc).__name__}")


def _migrations(directory: str) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        heads = set(ScriptDirectory(directory).get_heads())
        current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("migrations", False, f"cannot read alembic_version: {type(exc).__name__}")
    if current != heads:
        missing = sorted(heads - current)
        return Check("migrations", False, "not at head; missing " + ", ".join(missing or sorted(current - heads)))
    return Check("migrations", True, "at head")


def _scheduler(max_age: timedelta, now: datetime) -> Check:
    try:
        last = db.session.scalar(select(SchedulerHeartbeat.beat_at).order_by(SchedulerHeartbeat.beat_at.desc())
                                 .limit(1))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check("scheduler", False, f"cannot read the heartbeat: {type(exc).__name__}")
    if last is None:
        return Check("scheduler", False, "no heartbeat yet")
    age = now - as_utc(last)
    if age > max_age:
        return Check("scheduler", False, f"last heartbeat {int(age.total_seconds())} s ago")
    return Check("scheduler", True, f"last heartbeat {int(max(age.total_seconds(), 0))} s ago")


def readiness(migrations_dir: str, heartbeat_max_age_seconds: int, now: datetime | None = None) -> list[Check]:
    """Every readiness check in order: database, migrations, scheduler (the later ones need the first)."""
    now = as_utc(now) if now else utcnow()
    checks = [_database()]
    if checks[0].ok:
        checks.append(_migrations(migrations_dir))
        checks.append(_scheduler(timedelta(seconds=heartbeat_max_age_seconds), now))
    db.session.rollback()  # read-only; end the read transaction
    return checks
