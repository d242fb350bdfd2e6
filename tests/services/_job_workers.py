"""Worker functions for multi-process job-run tests (importable by spawned processes)."""
from __future__ import annotations


def run_goals_job_in_process(database_url: str, period: str, start_at: float, hold_seconds: float) -> tuple:
    """Build an app on ``database_url`` and, at wall-clock ``start_at``, run ``create_goals`` for ``period``
    through the job-run framework; the work holds for ``hold_seconds`` so two processes overlap.

    Returns ``(status, reason)`` of the :class:`JobOutcome`.
    """
    import time

    from thrive import create_app
    from thrive.extensions import db
    from thrive.services.goals import create_weekly_goals
    from thrive.services.jobs import run_job

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})

    def work():
        counts = create_weekly_goals(period)
        time.sleep(hold_seconds)
        return counts

    time.sleep(max(0.0, start_at - time.time()))
    with app.app_context():
        try:
            outcome = run_job("create_goals", period, work)
        finally:
            db.session.remove()
            db.engine.dispose()
    return outcome.status, outcome.reason
