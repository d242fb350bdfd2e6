"""Worker functions for multi-process concurrency tests (importable by spawned processes)."""
from __future__ import annotations


def award_in_process(database_url: str, learner_id: int, keys: list[str], barrier, activity_type: str,
                     metadata: dict | None = None) -> list[tuple[int, bool, bool]]:
    """Build an app on ``database_url`` and award ``activity_type`` once per key, once every process has
    reached ``barrier`` (a ``multiprocessing.Manager().Barrier``) so they start together.

    Returns (points_awarded, capped, duplicate) per award.
    """
    from concurrent.futures import ThreadPoolExecutor

    from thrive import create_app
    from thrive.extensions import db
    from thrive.services.points.award import award

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})

    def one(key: str):
        with app.app_context():
            try:
                r = award(learner_id, activity_type, event_key=key, metadata=metadata)
                return (r.points_awarded, r.capped, r.duplicate)
            finally:
                db.session.remove()

    barrier.wait(timeout=120)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, keys))
    with app.app_context():
        db.engine.dispose()
    return results


def import_file_in_process(database_url: str, path: str, started, done) -> tuple[int, ...]:
    """Run ``import_events(path)`` in this (spawned) process, as ``flask thrive import`` would.

    ``started`` (a ``multiprocessing.Manager().Event``) is set when the import's
    first award transaction begins, ``done`` when the import has ended.
    Returns (rows_read, awarded, duplicates, capped, rejected, points, slices).
    """
    from thrive import create_app
    from thrive.extensions import db
    from thrive.services.ingest import batches, event_files

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret-key"})
    real_award_events = event_files.award_events
    slices = []

    def award_events(*args, **kwargs):
        started.set()
        slices.append(1)
        return real_award_events(*args, **kwargs)

    event_files.award_events = award_events
    try:
        with app.app_context():
            s = event_files.import_events(path)
            db.session.remove()
            db.engine.dispose()
        return (s.rows_read, s.awarded, s.duplicates, s.capped, s.rejected, s.points, len(slices))
    finally:
        event_files.award_events = real_award_events
        started.set()
        done.set()
        del batches
