"""scheduler.py (§6.3): triggers in the platform time zone, and real scheduler/CLI processes on a real database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select, text

import scheduler as scheduler_module
from thrive.extensions import db
from thrive.models import JobRun, WeeklyGoal
from thrive.services.points.award import award

ROOT = Path(__file__).resolve().parent.parent
UTC = UTC


def process_env(app, **extra) -> dict:
    env = dict(os.environ)
    env.pop("THRIVE_SCHEDULER_ONCE", None)
    env.setdefault("SECRET_KEY", "scheduler-test-secret-key")   # required outside tests (issue 10)
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], FLASK_APP="wsgi:app",
               THRIVE_TIMEZONE=app.config.get("THRIVE_TIMEZONE", "UTC"), PYTHONUNBUFFERED="1", **extra)
    return env


def job_runs(uri: str) -> list[tuple[str, str, str]]:
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT job, period, status FROM job_runs ORDER BY id"))]
    finally:
        engine.dispose()


def seed_activity(app, make_learner, n: int = 3) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        for _ in range(n):
            learner = make_learner()
            award(learner.id, "comment_posted", event_key=f"sched-{learner.id}", occurred_at=now)
        db.session.remove()


def test_scheduler_has_every_job_with_safe_defaults(app):
    app.config["THRIVE_TIMEZONE"] = "Europe/Paris"
    sched = scheduler_module.build_scheduler(app)
    jobs = {job.id: job for job in sched.get_jobs()}
    assert set(jobs) == {"assign_circles", "create_goals", "streaks", "weekly_recap", "admin_dashboard", "catch_up",
                         "heartbeat"}
    paris = ZoneInfo("Europe/Paris")
    after = datetime(2026, 3, 4, 12, 0, 30, tzinfo=paris)                   # a Wednesday
    expected = {
        "assign_circles": datetime(2026, 3, 9, 0, 0, tzinfo=paris),
        "create_goals": datetime(2026, 3, 9, 0, 5, tzinfo=paris),
        "weekly_recap": datetime(2026, 3, 9, 8, 0, tzinfo=paris),
        "streaks": datetime(2026, 3, 4, 13, 0, tzinfo=paris),
        "admin_dashboard": datetime(2026, 3, 4, 12, 5, tzinfo=paris),
    }
    for job_id, when in expected.items():
        job = jobs[job_id]
        assert job.trigger.get_next_fire_time(None, after) == when, job_id
        assert str(job.trigger.timezone) == "Europe/Paris"
        assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, 3600, 1)
    # hourly across the spring-forward night: 01:00 CET is followed by 03:00 CEST
    night = datetime(2026, 3, 29, 1, 30, tzinfo=paris)
    assert jobs["streaks"].trigger.get_next_fire_time(None, night).astimezone(UTC) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC)


def test_scheduler_process_catches_up_once_and_exits(app, make_learner):
    seed_activity(app, make_learner)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    cmd = [sys.executable, "scheduler.py"]
    done = subprocess.run(cmd, cwd=ROOT, env=process_env(app, THRIVE_SCHEDULER_ONCE="1"), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first = job_runs(uri)
    assert [(job, status) for job, _period, status in first] == [
        ("assign_circles", "succeeded"), ("create_goals", "succeeded"), ("streaks", "succeeded"),
        ("weekly_recap", "succeeded"), ("admin_dashboard", "succeeded")]
    assert "catch-up: create_goals" in done.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WeeklyGoal)) == 3 * 4
    again = subprocess.run(cmd, cwd=ROOT, env=process_env(app, THRIVE_SCHEDULER_ONCE="1"), capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    # the hour may have turned (one new streaks run), and the 5-minute slot (one new admin_dashboard run)
    assert job_runs(uri) == first or len(job_runs(uri)) in (6, 7)
    assert "skipped (already_succeeded)" in again.stderr


def test_scheduler_process_runs_then_stops_cleanly_on_sigterm(app, make_learner):
    seed_activity(app, make_learner, 1)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    proc = subprocess.Popen([sys.executable, "scheduler.py"], cwd=ROOT, env=process_env(app),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            rows = job_runs(uri)
            if len(rows) == 5 and all(status != "running" for *_rest, status in rows):
                break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.5)
        else:
            pytest.fail(f"no job runs recorded: {job_runs(uri)}")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err and "scheduler stopped" in err
    assert {status for *_rest, status in job_runs(uri)} == {"succeeded"}


def test_two_cli_processes_racing_for_one_period(app, make_learner):
    seed_activity(app, make_learner, 2)
    env = process_env(app)
    flask = str(Path(sys.executable).with_name("flask"))
    cmd = [flask, "thrive", "run-job", "create_goals", "--period", "2026-W47"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    text_out = " ".join(out for out, _err in outputs)
    assert text_out.count("create_goals [2026-W47]: succeeded") == 1
    assert text_out.count("create_goals [2026-W47]: skipped") == 1
    assert job_runs(app.config["SQLALCHEMY_DATABASE_URI"]) == [("create_goals", "2026-W47", "succeeded")]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WeeklyGoal)) == 2 * 4
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
