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
