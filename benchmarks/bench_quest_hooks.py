"""Cost of the side quest and achievement award hooks (§10) on the award hot path.

Awards N quizzes/comments in-process on a fresh SQLite file three ways:
no quests or achievements defined; the default ones defined (most awards
cross nothing: the common case); and the same with every learner running
a quiz quest (one extra indexed query per matching award). Prints awards/s.

    .venv/bin/python benchmarks/bench_quest_hooks.py [N]
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def run(n: int, mode: str) -> float:
    from flask_migrate import upgrade

    from thrive import create_app
    from thrive.extensions import db
    from thrive.services.accounts.learners import create_learner
    from thrive.services.points import registry
    from thrive.services.points.award import award
    from thrive.services.quests.catalog import published
    from thrive.services.quests.progress import start_quest
    from thrive.services.quests.seeding import seed_quests_and_achievements

    path = Path(tempfile.mkdtemp()) / "bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x",
                      "THRIVE_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    with app.app_context():
        upgrade(revision="heads")
        registry.invalidate()
        registry.seed_defaults()
        if mode != "none":
            seed_quests_and_achievements()
        ids = [create_learner(f"bench{i}", f"B {i}").id for i in range(20)]
        start = datetime.now(UTC) - timedelta(days=2)
        if mode == "running":
            quest = next(q for q in published().quests if q.key == "first-steps")
            for lid in ids:
                start_quest(lid, quest.id, now=start)
        # warm up past the "first quiz" crossings so the loop measures the common case
        for i, lid in enumerate(ids):
            award(lid, "quiz_completed", event_key=f"warm:{i}", occurred_at=start + timedelta(minutes=1))
        t0 = time.perf_counter()
        for i in range(n):
            lid = ids[i % len(ids)]
            kind = "quiz_completed" if i % 2 else "comment_posted"
            award(lid, kind, event_key=f"e:{i}", occurred_at=start + timedelta(seconds=60 + i))
        elapsed = time.perf_counter() - t0
        db.session.remove()
        db.engine.dispose()
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for mode in ("none", "defined", "running"):
        print(f"{mode:>8}: {run(n, mode):,.0f} awards/s")


if __name__ == "__main__":
    main()
