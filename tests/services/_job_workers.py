"""Worker functions for multi-process job-run tests (importable by spawned processes)."""
from __future__ import annotations


def run_goals_job_in_process(database_url: str, period: str, barrier, finished) -> tuple:
    """Build an app on ``database_url`` and, once both processes reach ``barrier``, run ``create_goals`` for
    ``period`` through the job-run framework. The work holds until ``finished`` (a shared event, set by the
    process whose run was refused) is set, so the two runs are certain to overlap without wall-clock sleeps.

    Returns ``(status, reason)`` of the :class:`JobOutcome`.
    """
    from thrive import create_app
    from thrive.extensions import db
    from thrive.services.job_runs import run_job
    from thrive.services.weekly.goals import create_weekly_goals

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})

    def work():
        counts = create_weekly_goals(period)
        finished.wait(60)
        return counts

    barrier.wait(timeout=120)
    with app.app_context():
        try:
            outcome = run_job("create_goals", period, work)
            if outcome.status == "skipped":
                finished.set()
        finally:
            db.session.remove()
            db.engine.dispose()
    return outcome.status, outcome.reason
