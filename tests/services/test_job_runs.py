"""Job runs (§6.3): recorded once per period, locked against concurrent runs, retried, caught up; periods."""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.services._job_workers import run_goals_job_in_process
from thrive import jobs as thrive_jobs
from thrive.extensions import db
from thrive.models import JobRun, WeeklyGoal
from thrive.services.errors import ValidationError
from thrive.services.job_runs import PROCESS_TOKEN, run_job
from thrive.services.points.award import award
from thrive.timeutil import shift_week

UTC = UTC


def runs(job: str | None = None) -> list[JobRun]:
    db.session.expire_all()
    q = select(JobRun).order_by(JobRun.id)
    if job:
        q = q.where(JobRun.job == job)
    return list(db.session.scalars(q))


def make_active(make_learner, n: int, when: datetime) -> list[int]:
    ids = []
    for _ in range(n):
        learner = make_learner()
        award(learner.id, "comment_posted", event_key=f"active-{learner.id}", occurred_at=when,
              now=when + timedelta(minutes=1))
        ids.append(learner.id)
    return ids


# --- the framework ------------------------------------------------------------------------------------

def test_a_period_runs_once_and_is_recorded(app_ctx):
    calls = []
    outcome = run_job("demo", "2026-W10", lambda: calls.append(1) or {"done": len(calls)})
    assert (outcome.status, outcome.counts) == ("succeeded", {"done": 1})
    [row] = runs()
    assert (row.job, row.period, row.status, row.counts, row.error) == ("demo", "2026-W10", "succeeded", {"done": 1},
                                                                       None)
    assert row.finished_at is not None and row.finished_at >= row.started_at
    again = run_job("demo", "2026-W10", lambda: calls.append(1) or {})
    assert (again.status, again.reason, len(calls)) == ("skipped", "already_succeeded", 1)
    assert run_job("demo", "2026-W11", lambda: {}).status == "succeeded"
    forced = run_job("demo", "2026-W10", lambda: calls.append(1) or {"done": len(calls)}, force=True)
    assert forced.status == "succeeded" and len(calls) == 2
    assert [(r.period, r.status, r.counts) for r in runs()] == [
        ("2026-W10", "succeeded", {"done": 2, "attempt": 2}), ("2026-W11", "succeeded", {})]


def test_a_failed_run_is_recorded_and_may_be_retried(app_ctx):
    def boom():
        raise RuntimeError("database went away")

    failed = run_job("demo", "p1", boom)
    assert failed.status == "failed" and "RuntimeError: database went away" in failed.error
    [row] = runs()
    assert row.status == "failed" and "database went away" in row.error and row.finished_at is not None
    retried = run_job("demo", "p1", lambda: {"ok": True})
    assert retried.status == "succeeded"
    [row] = runs()
    assert (row.status, row.error, row.counts) == ("succeeded", None, {"ok": True, "attempt": 2})


def test_bad_names_and_periods_are_rejected(app_ctx):
    for name, period in (("", "p"), ("job", " "), ("x" * 65, "p"), ("job", "p" * 65)):
        with pytest.raises(ValidationError):
            run_job(name, period, lambda: {})
    assert runs() == []


def test_a_run_left_running_by_a_dead_process_is_taken_over(app_ctx):
    dead = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    db.session.add(JobRun(job="demo", period="p", status="running", started_at=datetime.now(UTC),
                          counts={"owner": {"host": socket.gethostname(), "pid": dead.pid, "token": "old"}}))
    db.session.commit()
    outcome = run_job("demo", "p", lambda: {"n": 1})
    assert outcome.status == "succeeded"
    assert [(r.status, r.counts) for r in runs()] == [("succeeded", {"n": 1, "attempt": 2})]


def test_a_run_in_progress_blocks_the_job(app_ctx):
    """A live 'running' row blocks another run on SQLite; on PostgreSQL the advisory lock decides."""
    db.session.add(JobRun(job="demo", period="p", status="running", started_at=datetime.now(UTC),
                          counts={"owner": {"host": socket.gethostname(), "pid": os.getpid(),
                                            "token": PROCESS_TOKEN}}))
    db.session.commit()
    outcome = run_job("demo", "q", lambda: {"n": 1})
    if db.engine.dialect.name == "sqlite":
        assert (outcome.status, outcome.reason) == ("skipped", "running")
        assert [r.period for r in runs()] == ["p"]
    else:  # nobody holds the lock, so the row is a crash leftover; other periods run
        assert outcome.status == "succeeded"


def test_racing_invocations_record_one_run_and_do_the_work_once(app, app_ctx, make_learner):
    """Two scheduler processes fire create_goals for the same week at the same moment (§6.3)."""
    period = "2026-W10"
    make_active(make_learner, 5, datetime(2026, 3, 4, 12, tzinfo=UTC))
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        ctx = multiprocessing.get_context("spawn")
        with ctx.Manager() as manager:
            barrier, finished = manager.Barrier(2), manager.Event()
            with ctx.Pool(2) as pool:
                results = pool.starmap(run_goals_job_in_process, [(uri, period, barrier, finished)] * 2)
    else:  # two threads, each with its own app context, session and connection
        from thrive.services.weekly.goals import create_weekly_goals

        barrier, results, turned_away = threading.Barrier(2), [], threading.Event()

        def worker():
            with app.app_context():
                def work():
                    counts = create_weekly_goals(period)
                    turned_away.wait(60)   # hold until the other run has been refused
                    return counts

                barrier.wait()
                outcome = run_job("create_goals", period, work)
                results.append((outcome.status, outcome.reason))
                if outcome.status == "skipped":
                    turned_away.set()
                db.session.remove()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(r[0] for r in results) == ["skipped", "succeeded"]
    # They overlapped: the loser saw the winner's live run (SQLite) or its advisory lock (PostgreSQL).
    expected = "running" if db.engine.dialect.name == "sqlite" else "locked"
    assert [r for r in results if r[0] == "skipped"][0][1] == expected
    [row] = runs("create_goals")
    assert (row.period, row.status, row.counts["created"]) == (period, "succeeded", 20)
    assert db.session.scalar(select(func.count()).select_from(WeeklyGoal)) == 20


# --- periods ----------------------------------------------------------------------------------------

def test_weekly_periods_roll_over_iso_week_53():
    at = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    goals, circles, recap = (thrive_jobs.JOBS[n] for n in ("create_goals", "assign_circles", "weekly_recap"))
    assert shift_week("2026-W53", 1) == "2027-W01"
    assert circles.latest_period(at(2027, 1, 3, 23, 59)) == "2026-W53"     # Sunday 2027-01-03
    assert circles.latest_period(at(2027, 1, 4, 0, 0)) == "2027-W01"
    assert goals.latest_period(at(2027, 1, 4, 0, 3)) == "2026-W53"         # before Monday 00:05
    assert goals.latest_period(at(2027, 1, 4, 0, 5)) == "2027-W01"
    assert recap.latest_period(at(2027, 1, 4, 7, 59)) == "2026-W52"
    assert recap.latest_period(at(2027, 1, 4, 8, 0)) == "2026-W53"         # recaps the week that ended
    assert goals.parse_period("2026-W53") == "2026-W53"
    with pytest.raises(ValidationError):
        goals.parse_period("2027-W53")                                       # 2027 has 52 weeks


def test_periods_in_a_non_utc_platform_time_zone(app, app_ctx):
    app.config["THRIVE_TIMEZONE"] = "America/New_York"
    goals, streaks = thrive_jobs.JOBS["create_goals"], thrive_jobs.JOBS["streaks"]
    # Monday 2026-03-09 00:05 EDT = 04:05 UTC (DST began on the 8th)
    assert goals.latest_period(datetime(2026, 3, 9, 4, 4, tzinfo=UTC)) == "2026-W10"
    assert goals.latest_period(datetime(2026, 3, 9, 4, 5, tzinfo=UTC)) == "2026-W11"
    # Fall back on 2026-11-01: 01:30 EDT and 01:30 EST are two different hours
    assert streaks.latest_period(datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) == "2026-11-01T05:00Z"
    assert streaks.latest_period(datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) == "2026-11-01T06:00Z"
    app.config["THRIVE_TIMEZONE"] = "Asia/Kolkata"
    assert streaks.latest_period(datetime(2026, 3, 9, 4, 10, tzinfo=UTC)) == "2026-03-09T03:30Z"
    assert streaks.parse_period("2026-03-09T09:00+05:30") == "2026-03-09T03:30Z"
    with pytest.raises(ValidationError):
        streaks.parse_period("yesterday")


# --- catch-up ---------------------------------------------------------------------------------------

def test_a_missed_monday_is_caught_up_once_at_start(app_ctx, make_learner):
    make_active(make_learner, 3, datetime(2026, 3, 4, 12, tzinfo=UTC))            # active in W10
    before = thrive_jobs.catch_up(datetime(2026, 3, 2, 1, tzinfo=UTC), names=["create_goals"])
    assert [(o.period, o.status) for o in before] == [("2026-W10", "succeeded")]
    # The scheduler was down from Sunday to Wednesday: Monday 2026-03-09 (W11) was missed.
    wednesday = datetime(2026, 3, 11, 10, 17, tzinfo=UTC)
    caught = thrive_jobs.catch_up(wednesday, names=["create_goals"])
    assert [(o.period, o.status, o.counts["created"]) for o in caught] == [("2026-W11", "succeeded", 12)]
    again = thrive_jobs.catch_up(wednesday + timedelta(hours=3), names=["create_goals"])
    assert [(o.period, o.status, o.reason) for o in again] == [("2026-W11", "skipped", "already_succeeded")]
    assert [(r.period, r.status) for r in runs("create_goals")] == [("2026-W10", "succeeded"),
                                                                    ("2026-W11", "succeeded")]


def test_catch_up_runs_every_job_for_its_due_period(app_ctx, make_learner):
    make_active(make_learner, 2, datetime(2026, 12, 30, 12, tzinfo=UTC))
    now = datetime(2027, 1, 4, 10, 17, tzinfo=UTC)                                 # Monday of 2027-W01
    outcomes = thrive_jobs.catch_up(now)
    assert [(o.job, o.period, o.status) for o in outcomes] == [
        ("assign_circles", "2027-W01", "succeeded"),
        ("create_goals", "2027-W01", "succeeded"),
        ("streaks", "2027-01-04T10:00Z", "succeeded"),
        ("weekly_recap", "2026-W53", "succeeded"),
        ("admin_dashboard", "2027-01-04T10:15Z", "succeeded"),
    ]
    assert outcomes[3].counts["sent"] == 2                                          # both earned points in W53
    assert all(o.status == "skipped" for o in thrive_jobs.catch_up(now + timedelta(minutes=2)))
    assert len(runs()) == 5


def test_run_validates_names_and_periods(app_ctx):
    with pytest.raises(ValidationError) as err:
        thrive_jobs.run("nope")
    assert err.value.code == "unknown_job"
    with pytest.raises(ValidationError):
        thrive_jobs.run("create_goals", "2026-53")
    assert runs() == []


# --- CLI --------------------------------------------------------------------------------------------

def test_cli_run_job_and_jobs(app, runner, make_learner, monkeypatch):
    with app.app_context():
        make_active(make_learner, 2, datetime(2026, 3, 4, 12, tzinfo=UTC))
    result = runner.invoke(args=["thrive", "run-job", "create_goals", "--period", "2026-W10"])
    assert result.exit_code == 0, result.output
    assert "create_goals [2026-W10]: succeeded" in result.output and '"created": 8' in result.output
    result = runner.invoke(args=["thrive", "run-job", "create_goals", "--period", "2026-W10"])
    assert result.exit_code == 0 and "skipped (already_succeeded)" in result.output
    result = runner.invoke(args=["thrive", "run-job", "create_goals", "--period", "2026-W10", "--force"])
    assert result.exit_code == 0 and "succeeded" in result.output and '"created": 0' in result.output

    job = thrive_jobs.JOBS["weekly_recap"]

    def boom(period):
        raise RuntimeError(f"recap for {period} exploded")

    monkeypatch.setitem(thrive_jobs.JOBS, "weekly_recap", dataclasses.replace(job, run=boom))
    result = runner.invoke(args=["thrive", "run-job", "weekly_recap", "--period", "2026-W09"])
    assert result.exit_code == 1 and "failed" in result.output and "exploded" in result.output

    result = runner.invoke(args=["thrive", "jobs", "--limit", "5"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert "\tweekly_recap\t2026-W09\tfailed\t" in lines[0] and "RuntimeError: recap for 2026-W09 exploded" in lines[0]
    assert "\tcreate_goals\t2026-W10\tsucceeded\t" in lines[1]


@pytest.mark.parametrize("args, message", [
    (["run-job", "nope"], "unknown job 'nope'"),
    (["run-job", "create_goals", "--period", "2026-W60"], "no such ISO week"),
    (["run-job", "streaks", "--period", "soon"], "not an ISO 8601 instant"),
    (["jobs", "--limit", "0"], "--limit must be at least 1"),
    (["jobs", "--job", "nope"], "unknown job"),
    (["create-goals", "--week", "26-W1"], "week must look like"),
    (["run-streaks", "--at", "half past"], "not an ISO 8601 instant"),
    (["run-streaks", "--at", "2999-01-01T00:00Z"], "must not be in the future"),
    (["run-recap", "--week", "2026-W00"], "no such ISO week"),
])
def test_cli_bad_input_exits_2(runner, args, message):
    result = runner.invoke(args=["thrive", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cli_direct_commands(app, runner, make_learner):
    with app.app_context():
        make_active(make_learner, 1, datetime(2026, 3, 4, 12, tzinfo=UTC))
    result = runner.invoke(args=["thrive", "create-goals", "--week", "2026-W10"])
    assert result.exit_code == 0 and "Weekly goals: week 2026-W10, eligible 1, created 4" in result.output
    result = runner.invoke(args=["thrive", "run-streaks", "--at", "2026-03-05T00:30Z"])
    assert result.exit_code == 0 and "bonuses 1" in result.output
    result = runner.invoke(args=["thrive", "run-recap", "--week", "2026-W10"])
    assert result.exit_code == 0 and "sent 1" in result.output
    result = runner.invoke(args=["thrive", "jobs"])
    assert result.exit_code == 0 and "No job runs yet." in result.output   # direct commands are not job runs
