"""Scheduler jobs for staff (§11, §6.3): runs, per-job overview with missed windows, run now.

"Run now" goes through :func:`thrive.jobs.run` → :func:`thrive.services.job_runs.run_job`,
the same recorded and locked service the scheduler uses, so it can never run
at the same time as the scheduler's run of that job.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from thrive import jobs
from thrive.db import write_transaction
from thrive.extensions import db
from thrive.models import JobRun, Learner
from thrive.services.admin.audit import record
from thrive.services.job_runs import JobOutcome
from thrive.timeutil import as_utc, utcnow

#: How long after a period is due the scheduler may take before it counts as missed.
MISSED_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class JobOverview:
    """One job: ``due_period`` is the period due now; ``last_completed`` the newest succeeded period;
    ``missed_period`` is set when the period due ``MISSED_GRACE`` ago has not succeeded (the scheduler
    missed its window); ``last_run`` the newest run row."""

    name: str
    title: str
    due_period: str
    last_completed: str | None
    last_run: JobRun | None
    missed_period: str | None


def overview(now: datetime | None = None) -> list[JobOverview]:
    """Every job of :data:`thrive.jobs.JOBS`, in catch-up order."""
    now = as_utc(now) if now else utcnow()
    out = []
    for job in jobs.JOBS.values():
        last_completed = db.session.scalar(
            select(func.max(JobRun.period)).where(JobRun.job == job.name, JobRun.status == "succeeded"))
        last_run = db.session.scalar(select(JobRun).where(JobRun.job == job.name)
                                     .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
        should_be_done = job.latest_period(now - MISSED_GRACE)
        done = db.session.scalar(select(JobRun.id).where(JobRun.job == job.name, JobRun.period == should_be_done,
                                                         JobRun.status == "succeeded"))
        out.append(JobOverview(job.name, job.title, job.latest_period(now), last_completed, last_run,
                               None if done else should_be_done))
    return out


def runs_page(page_number: int = 1, job: str | None = None, per_page: int = 50):
    """Job runs newest first, paged (Flask-SQLAlchemy pagination); ``job`` filters by name."""
    q = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        q = q.where(JobRun.job == job)
    return db.paginate(q, page=page_number, per_page=per_page, error_out=False)


def duration_seconds(run: JobRun) -> float | None:
    """A finished run's duration in seconds (None while running)."""
    if run.finished_at is None:
        return None
    return (as_utc(run.finished_at) - as_utc(run.started_at)).total_seconds()


def run_now(actor: Learner, name: str, period: str | None = None) -> JobOutcome:
    """Run job ``name`` for ``period`` (default: the period due now) now, forced, and audit it.

    Skips (outcome ``skipped``, reason ``locked``/``running``) when the scheduler
    or another process is running that job. Raises ``ValidationError`` for an
    unknown job or a malformed period (nothing runs, nothing is audited).
    """
    outcome = jobs.run(name, period or None, force=True)
    with write_transaction():
        record(actor, "job.run", "job", name, None, {"period": outcome.period, "status": outcome.status,
                                                     "reason": outcome.reason, "counts": outcome.counts})
    return outcome
