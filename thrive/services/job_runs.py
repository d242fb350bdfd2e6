"""Job runs (§6.3): every scheduled job runs through :func:`run_job` — recorded, locked, once per period.

A *period* names what one run covers: an ISO week (``"2026-W12"``) for the
weekly jobs, an hour (``"2026-03-08T07:00Z"``) for the streak job. The
:class:`JobRun` row of ``(job, period)`` is unique, so a period runs once:

- a succeeded period is skipped (unless forced — an admin "run again");
- a failed period may be retried (the same row goes back to ``running``);
- a ``running`` row owned by a live process is left alone.

Two scheduler processes (or a scheduler and an admin/CLI "run now") never run
a job at the same time:

- **PostgreSQL**: a session-level advisory lock keyed by the job name
  (``pg_try_advisory_lock``) is held on a dedicated connection for the whole
  run; whoever does not get it skips. A ``running`` row found while holding
  the lock is a leftover of a crashed process and is taken over.
- **SQLite**: the claim (read the row, insert or update it to ``running``)
  happens inside ``BEGIN IMMEDIATE`` (:func:`write_transaction`), which
  serialises claimers; the unique constraint backs it up. The row records its
  owner (host, pid, process token); a ``running`` row whose owner is alive —
  or that is younger than ``THRIVE_JOB_STALE_SECONDS`` on another host — makes
  other claimers skip, for any period of that job.

Job functions must be idempotent (they are: event keys, dedupe keys,
``ON CONFLICT DO NOTHING``), so a retried or taken-over period cannot double
anything.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from thrive import metrics
from thrive.db import is_sqlite, write_transaction
from thrive.extensions import db
from thrive.models import JobRun
from thrive.services.errors import ValidationError
from thrive.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 64
MAX_ERROR_LENGTH = 10_000
#: Identifies this process incarnation (a reused pid after a restart is not "alive").
PROCESS_TOKEN = uuid.uuid4().hex
DEFAULT_STALE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class JobOutcome:
    """What :func:`run_job` did.

    ``status``: ``"succeeded"``, ``"failed"`` or ``"skipped"``; ``reason`` says
    why a run was skipped (``"already_succeeded"``, ``"running"``, ``"locked"``);
    ``counts`` is the job function's summary; ``error`` the failure text.
    """

    job: str
    period: str
    status: str
    run_id: int | None = None
    counts: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return self.status in ("succeeded", "failed")

    def summary(self) -> str:
        """One line for logs and the CLI."""
        head = f"{self.job} [{self.period}]: {self.status}"
        if self.status == "skipped":
            return f"{head} ({self.reason})"
        if self.status == "failed":
            return f"{head}: {(self.error or '').strip().splitlines()[-1] if self.error else ''}"
        return f"{head} " + json.dumps(self.counts or {}, sort_keys=True, default=str)


def advisory_key(name: str) -> int:
    """The signed 64-bit PostgreSQL advisory lock key of job ``name``."""
    digest = hashlib.sha256(f"thrive-job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "token": PROCESS_TOKEN}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_after() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("THRIVE_JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS)))


def _owner_alive(row: JobRun, now: datetime) -> bool:
    """Whether a ``running`` row's owner may still be working on it."""
    owner = (row.counts or {}).get("owner") or {}
    if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
        if owner["pid"] == os.getpid():
            return owner.get("token") == PROCESS_TOKEN
        return _pid_alive(owner["pid"])
    return now - as_utc(row.started_at) < _stale_after()


class _PgLock:
    """A session-level advisory lock held on its own connection for a whole job run."""

    def __init__(self, name: str):
        self.key = advisory_key(name)
        self.conn = db.engine.connect()
        self.acquired = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        self.conn.commit()

    def release(self) -> None:
        try:
            if self.acquired:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
        except Exception:  # noqa: BLE001 — a broken connection loses its locks anyway
            self.conn.invalidate()
        finally:
            self.conn.close()


def _claim(name: str, period: str, force: bool, now: datetime, locked: bool) -> int | JobOutcome:
    """Insert or reclaim the ``(name, period)`` row as ``running``; return its id, or a skipped outcome."""
    with write_transaction() as session:
        row = session.scalar(select(JobRun).where(JobRun.job == name, JobRun.period == period))
        if row is not None and row.status == "succeeded" and not force:
            return JobOutcome(name, period, "skipped", row.id, row.counts, reason="already_succeeded")
        if not locked:
            # SQLite: the rows are the lock — any live run of this job blocks a second one.
            for other in session.scalars(select(JobRun).where(JobRun.job == name, JobRun.status == "running")):
                if _owner_alive(other, now):
                    return JobOutcome(name, period, "skipped", other.id, reason="running",
                                      extra={"running_period": other.period})
        attempt = 1
        if row is None:
            row = JobRun(job=name, period=period, status="running", started_at=now,
                         counts={"owner": _owner(), "attempt": attempt})
            session.add(row)
        else:
            attempt = int((row.counts or {}).get("attempt", 1)) + 1
            if row.status == "running":
                log.warning("job %s [%s]: taking over a run left 'running' by %s", name, period,
                            (row.counts or {}).get("owner"))
            row.status, row.started_at, row.finished_at, row.error = "running", now, None, None
            row.counts = {"owner": _owner(), "attempt": attempt}
        session.flush()
        return row.id


def _finish(run_id: int, status: str, counts: dict | None, error: str | None, attempt: int) -> None:
    with write_transaction() as session:
        row = session.get(JobRun, run_id)
        row.status = status
        row.finished_at = utcnow()
        stored = dict(counts or {})
        if attempt > 1:
            stored.setdefault("attempt", attempt)
        row.counts = stored
        row.error = error[-MAX_ERROR_LENGTH:] if error else None


def _jsonable(counts: Any) -> dict[str, Any]:
    if counts is None:
        return {}
    if not isinstance(counts, dict):
        counts = {"result": counts}
    return json.loads(json.dumps(counts, default=str))


def run_job(name: str, period: str, fn: Callable[[], dict | None], *, force: bool = False,
            now: datetime | None = None) -> JobOutcome:
    """Run ``fn()`` as job ``name`` for ``period``, at most once and never concurrently (§6.3).

    Args:
        name: job name (≤ 64 characters), e.g. ``"create_goals"``.
        period: what the run covers (≤ 64 characters), e.g. ``"2026-W12"``.
        fn: the work; returns a JSON-able dict of counts (stored on the run).
        force: run again even if the period already succeeded (admin "run now").
        now: the claim instant (UTC; default the clock) — recorded as ``started_at``.

    Returns a :class:`JobOutcome`. ``fn``'s exceptions do not propagate: the
    run is marked ``failed`` with the traceback as its error (and may be
    retried later). Raises :class:`ValidationError` for an empty or too long
    name or period.
    """
    for label, value in (("job name", name), ("period", period)):
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_LENGTH:
            raise ValidationError(f"{label} must be 1–{MAX_NAME_LENGTH} characters")
    now = as_utc(now) if now else utcnow()
    lock = None
    if not is_sqlite():
        lock = _PgLock(name)
        if not lock.acquired:
            lock.release()
            log.info("job %s [%s]: another process holds the lock; skipped", name, period)
            return JobOutcome(name, period, "skipped", reason="locked")
    try:
        try:
            claimed = _claim(name, period, force, now, locked=lock is not None)
        except IntegrityError:
            db.session.rollback()
            return JobOutcome(name, period, "skipped", reason="running")
        if isinstance(claimed, JobOutcome):
            log.info("job %s [%s]: skipped (%s)", name, period, claimed.reason)
            return claimed
        run_id = claimed
        attempt = int((db.session.get(JobRun, run_id).counts or {}).get("attempt", 1))
        db.session.commit()
        log.info("job %s [%s]: started (run %s)", name, period, run_id)
        started = time.perf_counter()
        try:
            counts = _jsonable(fn())
        except Exception:  # noqa: BLE001 — recorded on the run, reported to the caller
            db.session.rollback()
            error = traceback.format_exc()
            metrics.record_job(name, "failed", time.perf_counter() - started)
            _finish(run_id, "failed", {}, error, attempt)
            log.error("job %s [%s]: failed (run %s)\n%s", name, period, run_id, error)
            return JobOutcome(name, period, "failed", run_id, {}, error=error)
        metrics.record_job(name, "succeeded", time.perf_counter() - started)
        _finish(run_id, "succeeded", counts, None, attempt)
        log.info("job %s [%s]: succeeded (run %s) %s", name, period, run_id, counts)
        return JobOutcome(name, period, "succeeded", run_id, counts)
    finally:
        if lock is not None:
            lock.release()


def recent_runs(limit: int = 20, job: str | None = None) -> list[JobRun]:
    """The most recent job runs, newest first (for ``flask thrive jobs`` and the admin jobs page)."""
    if limit < 1:
        raise ValidationError("limit must be at least 1")
    q = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        q = q.where(JobRun.job == job)
    return list(db.session.scalars(q))


def run_for(name: str, period: str) -> JobRun | None:
    """The run row of ``(name, period)``, if any."""
    return db.session.scalar(select(JobRun).where(JobRun.job == name, JobRun.period == period))
