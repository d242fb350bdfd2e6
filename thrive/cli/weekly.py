"""Weekly-rhythm commands (§12): create-goals, run-streaks, run-recap, jobs, run-job.

``create-goals``, ``run-streaks`` and ``run-recap`` call their service
directly (all idempotent); ``run-job`` goes through the job-run framework
(recorded, locked, once per period — what the scheduler does).
Bad input exits with status 2 and a message; a failed job with status 1.
"""
from __future__ import annotations

import json
from datetime import timedelta

import click

from thrive.services.errors import ThriveError

from ..timeutil import platform_week, shift_week, utcnow
from . import thrive_cli
from .core import fail, week_option


def _echo_counts(label: str, counts: dict) -> None:
    click.echo(f"{label}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@thrive_cli.command("create-goals")
@week_option(lambda: platform_week(utcnow()), "Platform ISO week (default: this week).")
def create_goals_command(week):
    """Create the week's weekly goals for active learners (idempotent, §6.2)."""
    from thrive.services.weekly.goals import create_weekly_goals

    try:
        counts = create_weekly_goals(week)
    except ThriveError as exc:
        fail(exc.message)
    _echo_counts("Weekly goals", counts)


@thrive_cli.command("run-streaks")
@click.option("--at", "at", default=None, metavar="ISO-INSTANT",
              help="Run as of this instant (e.g. 2026-03-09T05:00Z; default now; not in the future).")
def run_streaks_command(at):
    """Award streak bonuses, apply grace days, reset broken streaks, send at-risk reminders (§5.3, §6.3)."""
    from thrive.services.progression.streak_job import run_streaks

    from ..jobs import parse_instant

    when = utcnow()
    if at is not None:
        try:
            when = parse_instant(at)
        except ThriveError as exc:
            fail(f"--at: {exc.message}", 2)
        if when > utcnow() + timedelta(minutes=5):
            fail("--at must not be in the future", 2)
    try:
        counts = run_streaks(when)
    except ThriveError as exc:
        fail(exc.message)
    _echo_counts("Streaks", counts)


@thrive_cli.command("run-recap")
@week_option(lambda: shift_week(platform_week(utcnow()), -1), "The week to recap (default: last week).")
def run_recap_command(week):
    """Send personal weekly recap notifications for a week (deduped, §9)."""
    from thrive.services.weekly.recap import send_weekly_recaps

    try:
        counts = send_weekly_recaps(week)
    except ThriveError as exc:
        fail(exc.message)
    _echo_counts("Weekly recap", counts)


@thrive_cli.command("jobs")
@click.option("--limit", default=20, show_default=True, type=int, help="How many recent runs to list.")
@click.option("--job", "job_name", default=None, help="Only runs of this job.")
def jobs_command(limit, job_name):
    """List recent job runs: id, job, period, status, started, duration, counts or error."""
    from thrive.services.job_runs import recent_runs

    from ..jobs import JOBS
    from ..timeutil import as_utc

    if limit < 1:
        fail("--limit must be at least 1", 2)
    if job_name and job_name not in JOBS:
        fail(f"unknown job {job_name!r}; jobs: {', '.join(JOBS)}", 2)
    runs = recent_runs(limit, job_name)
    if not runs:
        click.echo("No job runs yet.")
        return
    for r in runs:
        started = as_utc(r.started_at)
        took = f"{(as_utc(r.finished_at) - started).total_seconds():.1f}s" if r.finished_at else "-"
        if r.status == "failed" and r.error:
            detail = r.error.strip().splitlines()[-1]
        else:
            detail = json.dumps(r.counts or {}, sort_keys=True, default=str)
        click.echo(f"{r.id}\t{r.job}\t{r.period}\t{r.status}\t{started:%Y-%m-%d %H:%M:%S}Z\t{took}\t{detail}")


@thrive_cli.command("run-job")
@click.argument("name")
@click.option("--period", default=None, help="The period (YYYY-Www, or an ISO instant for streaks); default: due now.")
@click.option("--force", is_flag=True, help="Run again even if the period already succeeded.")
def run_job_command(name, period, force):
    """Run job NAME through the job-run framework (recorded, locked, once per period)."""
    from ..jobs import JOBS, run

    if name not in JOBS:
        fail(f"unknown job {name!r}; jobs: {', '.join(JOBS)}", 2)
    try:
        outcome = run(name, period, force=force)
    except ThriveError as exc:
        fail(f"--period: {exc.message}" if period else exc.message, 2)
    click.echo(outcome.summary())
    if outcome.status == "failed":
        raise SystemExit(1)
