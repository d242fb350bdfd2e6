#!/usr/bin/env python
"""Thrive's scheduler process (§6.3): ``python scheduler.py``.

Runs APScheduler's ``BlockingScheduler`` in its own process — never inside
the web workers — in the platform time zone (``THRIVE_TIMEZONE``) with the
jobs of :data:`thrive.jobs.JOBS`:

- circle assignment, Monday 00:00;
- weekly goal creation, Monday 00:05;
- streaks, hourly at :00 (streak-at-risk reminders inside the same job);
- weekly recap, Monday 08:00.

Triggers coalesce missed fire times (``coalesce=True``), tolerate an hour of
lateness (``misfire_grace_time``) and never overlap (``max_instances=1``).
The app is built once with ``create_app()`` (same configuration as the web
app: ``DATABASE_URL`` etc., ``.env``/``.flaskenv`` loaded like ``flask``
does); every job runs inside ``app.app_context()`` through the job-run
framework (recorded, database-locked, once per period), so two scheduler
processes side by side are safe. On start, :func:`thrive.jobs.catch_up` runs
any period missed while the scheduler was down. SIGTERM/SIGINT stop it
cleanly: no new runs start, a running job finishes, the process exits 0.

Environment:
    THRIVE_SCHEDULER_ONCE=1   run the catch-up once and exit (cron-style use, tests)
    THRIVE_SCHEDULER_LOG_LEVEL  logging level (default INFO)
"""
from __future__ import annotations

import logging
import os
import signal
import sys
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

ONCE_ENV = "THRIVE_SCHEDULER_ONCE"
MISFIRE_GRACE_SECONDS = 3600
HEARTBEAT_SECONDS = 60

log = logging.getLogger("thrive.scheduler")


def run_scheduled(app, name: str) -> None:
    """APScheduler entry point of one job: run it for the period due now, inside an app context."""
    from thrive.jobs import run

    with app.app_context():
        try:
            outcome = run(name)
        except Exception:  # noqa: BLE001 — keep the scheduler alive; the error is logged
            log.exception("job %s could not be started", name)
            return
        (log.error if outcome.status == "failed" else log.info)("%s", outcome.summary())


def run_catch_up(app) -> list:
    """Run every job's most recently due period that has not succeeded yet (§6.3)."""
    from thrive.jobs import catch_up

    with app.app_context():
        outcomes = catch_up()
    for outcome in outcomes:
        (log.error if outcome.status == "failed" else log.info)("catch-up: %s", outcome.summary())
    return outcomes


def build_scheduler(app) -> BlockingScheduler:
    """A ``BlockingScheduler`` in the platform time zone with every job's cron trigger and a catch-up run now."""
    from thrive.jobs import JOBS

    tz = app.config.get("THRIVE_TIMEZONE", "UTC")
    defaults = {"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1}
    scheduler = BlockingScheduler(timezone=tz, job_defaults=defaults)
    for job in JOBS.values():
        scheduler.add_job(run_scheduled, CronTrigger(timezone=tz, **job.cron), args=(app, job.name), id=job.name,
                          name=job.title, replace_existing=True, **defaults)
    scheduler.add_job(run_catch_up, "date", args=(app,), id="catch_up", name="Catch up missed periods", **defaults)
    scheduler.add_job(heartbeat, "interval", args=(app,), seconds=HEARTBEAT_SECONDS, id="heartbeat",
                      name="Heartbeat (read by /readyz)", next_run_time=datetime.now(UTC), **defaults)
    return scheduler


def heartbeat(app) -> None:
    """Record that this scheduler is alive (``/readyz`` checks it is recent)."""
    from thrive.services.ops.health import beat

    with app.app_context():
        try:
            beat()
        except Exception:  # noqa: BLE001 — a missed beat shows in /readyz; keep the scheduler alive
            log.exception("could not write the scheduler heartbeat")


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("THRIVE_SCHEDULER_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
    )
    from flask.cli import load_dotenv

    load_dotenv()
    from thrive import create_app

    app = create_app()
    log.info("Thrive scheduler (pid %s) on %s, time zone %s", os.getpid(),
             app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1], app.config.get("THRIVE_TIMEZONE", "UTC"))
    if os.environ.get(ONCE_ENV) == "1":
        outcomes = run_catch_up(app)
        return 1 if any(o.status == "failed" for o in outcomes) else 0

    scheduler = build_scheduler(app)

    def stop(signum, _frame):
        log.info("received %s: stopping (a running job finishes first)", signal.Signals(signum).name)
        if scheduler.running:
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()  # blocks until stop()
    log.info("scheduler stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
