"""Benchmark: Thrive Circle assignment for 1,000,000 learners on PostgreSQL vs one set-based SQL statement (§15).

A fresh database ``thrive_bench_<random>`` is created, migrated and seeded
(and dropped at the end). N learners and their derived-state rows are
bulk-loaded with ``COPY`` with a realistic tier mix — Ember 45 %, Spark 30 %,
Blaze 15 %, Beacon 8 %, Phoenix 2 % — totals spread inside each tier's
range, and 85 % with a recent last award (eligible), the rest older than the
eligibility window. Then, in the same run and on the same tables:

- **thrive** — ``thrive.services.weekly.circles.assign_circles(week)`` inside the
  full app: counts per tier, group planning (small-tier merges), one insert of
  the circles (names "Ember Circle A"…, goal targets), one ``INSERT … SELECT``
  with ``row_number() OVER (PARTITION BY tier ORDER BY total)`` for the
  memberships, one ``INSERT … SELECT`` for the prefs-aware, deduplicated
  ``circle_assigned`` notifications, the ``circle_weeks`` marker — one
  transaction.
- **baseline** — a single SQL statement (data-modifying CTEs) doing the same
  grouping with ``count()``/``row_number()`` over the tier and writing the
  same rows: circles, memberships and notifications (simplified names, no
  small-tier merging, no dedupe conflict handling, rows inserted in whatever
  order the plan yields). It gets the same ``work_mem`` as the assignment.
- **grouping only** (for reference) — the window query alone into a temporary
  table, i.e. the pure cost of the grouping.

Rounds alternate the order (baseline first, then thrive first); every run
assigns the same week on the same population, and the circle, membership,
notification and marker tables are truncated between runs so each starts
from the same state. After each thrive run the result is checked: every
eligible learner placed exactly once, circle sizes within
[min, target + min − 1].

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_circles.py                       # 1,000,000 learners, 2 rounds
    .venv/bin/python benchmarks/bench_circles.py --learners 100000 --rounds 1

PostgreSQL server: ``THRIVE_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres).
Target: thrive within 2× the baseline and under 60 s.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta

import common  # noqa: E402  (puts the repo root on sys.path)

from thrive.services.weekly.circles import BULK_WORK_MEM  # noqa: E402

TIER_MIX = [("ember", 0.45, 0, 249), ("spark", 0.30, 250, 499), ("blaze", 0.15, 500, 999),
            ("beacon", 0.08, 1000, 2499), ("phoenix", 0.02, 2500, 20000)]
ELIGIBLE_SHARE = 0.85
TARGET_RATIO = 2.0
TARGET_SECONDS = 60.0
BASE_WEEK = "2030-W10"

BASELINE_SQL = """
WITH eligible AS (
    SELECT s.learner_id, s.tier_key,
           count(*) OVER (PARTITION BY s.tier_key) AS n,
           row_number() OVER (PARTITION BY s.tier_key ORDER BY s.total_points, s.learner_id) - 1 AS pos,
           coalesce((l.notification_prefs ->> 'circle_assigned')::boolean, true) AS wants
    FROM learner_states s JOIN learners l ON l.id = s.learner_id
    WHERE l.is_active_account AND s.last_award_at >= %(since)s AND s.last_award_at < %(end)s
), placed AS (
    SELECT learner_id, tier_key, wants,
           LEAST(pos / %(target)s,
                 GREATEST(n / %(target)s + CASE WHEN n %% %(target)s >= %(minimum)s THEN 1 ELSE 0 END, 1) - 1) AS seq
    FROM eligible
), new_circles AS (
    INSERT INTO circles (week, tier_key, name, seq, goal_target, created_at)
    SELECT %(week)s, tier_key, initcap(tier_key) || ' Circle ' || seq, seq, count(*) * 100, now()
    FROM placed GROUP BY tier_key, seq
    RETURNING id, tier_key, seq, name
), new_members AS (
    INSERT INTO circle_memberships (circle_id, learner_id, week, points, joined_at)
    SELECT c.id, p.learner_id, %(week)s, 0, now()
    FROM placed p JOIN new_circles c ON c.tier_key = p.tier_key AND c.seq = p.seq
    RETURNING learner_id, circle_id
)
INSERT INTO notifications (learner_id, type, title, body, link, data, dedupe_key, created_at)
SELECT m.learner_id, 'circle_assigned', 'Meet your Thrive Circle: ' || c.name,
       'Say hello to the learners at a similar stage to you this week.', '/',
       json_build_object('circle_id', c.id, 'week', %(week)s::text),
       'circle_assigned:' || m.learner_id || ':' || %(week)s, now()
FROM new_members m JOIN new_circles c ON c.id = m.circle_id
JOIN placed p ON p.learner_id = m.learner_id
WHERE p.wants
"""

GROUPING_SQL = """
CREATE TEMP TABLE grouping_only ON COMMIT DROP AS
SELECT s.learner_id, s.tier_key,
       (row_number() OVER (PARTITION BY s.tier_key ORDER BY s.total_points, s.learner_id) - 1) / %(target)s AS seq
FROM learner_states s JOIN learners l ON l.id = s.learner_id
WHERE l.is_active_account AND s.last_award_at >= %(since)s AND s.last_award_at < %(end)s
"""


def load_population(dsn: str, n: int, anchor: datetime, seed: int = 7) -> int:
    """COPY ``n`` learners + state rows; return how many are eligible (recent last award)."""
    import psycopg

    rng = random.Random(seed)
    cumulative, acc = [], 0.0
    for key, share, low, high in TIER_MIX:
        acc += share
        cumulative.append((acc, key, low, high))
    created = anchor - timedelta(days=60)
    eligible = 0
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY learners (id, username, display_name, timezone, is_admin, is_active_account, "
                      "share_activities, share_tier_upgrades, share_profile, notification_prefs, created_at) "
                      "FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((i, f"bench{i}", f"Bench Learner {i}", "UTC", False, True, True, True, True, "{}",
                                created))
        with cur.copy("COPY learner_states (learner_id, total_points, weekly_points, weekly_week, peak_points, "
                      "tier_key, level, current_streak, longest_streak, grace_days, last_award_at, "
                      "quizzes_completed, projects_created, comments_posted, side_quests_completed) "
                      "FROM STDIN") as copy:
            for i in range(1, n + 1):
                r = rng.random()
                tier = next(item for item in cumulative if r <= item[0] or item is cumulative[-1])
                total = rng.randint(tier[2], tier[3])
                if rng.random() < ELIGIBLE_SHARE:
                    last = anchor - timedelta(seconds=rng.randint(60, 20 * 86400))  # within the 28 days
                    eligible += 1
                else:
                    last = anchor - timedelta(days=rng.randint(30, 400))
                copy.write_row((i, total, 0, None, total, tier[1], 1, 0, 0, 0, last, 0, 0, 0, 0))
        cur.execute("SELECT setval(pg_get_serial_sequence('learners', 'id'), %s)", (n,))
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE learners")
        conn.execute("VACUUM ANALYZE learner_states")
    print(f"loaded {n:,} learners ({eligible:,} eligible) with COPY in {time.perf_counter() - t0:.1f} s")
    return eligible


def reset(dsn: str) -> None:
    """Empty the tables the assignment writes (same starting state for every run)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE circle_memberships, circles, notifications, circle_weeks")
        conn.execute("CHECKPOINT")


def run_baseline(dsn: str, week: str, since: datetime, end: datetime, target: int, minimum: int) -> float:
    import psycopg

    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        conn.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")  # same memory as assign_circles gets
        conn.execute(BASELINE_SQL, {"week": week, "since": since, "end": end, "target": target, "minimum": minimum})
        conn.commit()
        return time.perf_counter() - t0


def run_grouping(dsn: str, since: datetime, end: datetime, target: int) -> float:
    import psycopg

    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        conn.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
        conn.execute(GROUPING_SQL, {"since": since, "end": end, "target": target})
        conn.commit()
        return time.perf_counter() - t0


class StatementTimer:
    """Collects the duration of each SQL statement run through the app's engine."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.rows: list[tuple[float, str]] = []
        self._start: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._start[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._start.pop(id(cursor), None)
        if started is not None:
            self.rows.append((time.perf_counter() - started, " ".join(statement.split())[:70]))


def run_thrive(app, week: str, timer: StatementTimer) -> tuple[float, dict]:
    from thrive.extensions import db
    from thrive.services.weekly.circles import assign_circles

    with app.app_context():
        timer.rows.clear()
        t0 = time.perf_counter()
        result = assign_circles(week)
        elapsed = time.perf_counter() - t0
        db.session.remove()
    return elapsed, result


def check(app, week: str, eligible: int, target: int, minimum: int) -> str:
    from sqlalchemy import func, select

    from thrive.extensions import db
    from thrive.models import Circle, CircleMembership

    with app.app_context():
        sizes = db.session.execute(
            select(func.count(CircleMembership.id), func.count(func.distinct(CircleMembership.learner_id)))
            .join(Circle, Circle.id == CircleMembership.circle_id).where(Circle.week == week)
        ).one()
        per_circle = db.session.execute(
            select(func.min(func.count(CircleMembership.id)).over(), func.max(func.count(CircleMembership.id)).over(),
                   func.count().over())
            .join(Circle, Circle.id == CircleMembership.circle_id).where(Circle.week == week)
            .group_by(Circle.id).limit(1)
        ).one()
        db.session.remove()
    placed, distinct = sizes
    smallest, largest, circles = per_circle
    ok = placed == distinct == eligible and minimum <= smallest and largest <= target + minimum - 1
    return (f"{'OK' if ok else 'FAILED'}: {placed:,} memberships, {distinct:,} learners (eligible {eligible:,}), "
            f"{circles:,} circles of {smallest}–{largest}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not common.pg_available():
        print("PostgreSQL is not available; set THRIVE_BENCH_PG_URL", file=sys.stderr)
        return 1

    from thrive.timeutil import shift_week, week_start_instant

    print(f"# Thrive Circles assignment benchmark — {args.learners:,} learners on PostgreSQL")
    print(common.machine_info())
    anchor = week_start_instant(BASE_WEEK)
    with common.fresh_database("postgresql", keep=args.keep) as uri:
        dsn = common.libpq_dsn(uri)
        eligible = load_population(dsn, args.learners, anchor)
        app = common.bench_app(uri)
        target = app.config["THRIVE_CIRCLE_TARGET_SIZE"]
        minimum = app.config["THRIVE_CIRCLE_MIN_SIZE"]
        days = app.config["THRIVE_CIRCLE_ELIGIBILITY_DAYS"]
        with app.app_context():
            from thrive.extensions import db

            timer = StatementTimer(db.engine)
        rows = []
        week = BASE_WEEK
        since = week_start_instant(week) - timedelta(days=days)
        end = week_start_instant(shift_week(week, 1))
        for rnd in range(1, args.rounds + 1):
            order = ["baseline", "thrive"] if rnd % 2 else ["thrive", "baseline"]
            for kind in order:
                reset(dsn)
                if kind == "baseline":
                    seconds = run_baseline(dsn, week, since, end, target, minimum)
                    rows.append((rnd, "baseline (one SQL statement)", week, seconds, ""))
                else:
                    seconds, result = run_thrive(app, week, timer)
                    rows.append((rnd, "thrive assign_circles()", week, seconds,
                                 f"{result['learners']:,} placed, {result['circles']:,} circles, "
                                 f"{result['notified']:,} notified"))
                    print(check(app, week, eligible, target, minimum))
                    slow = sorted(timer.rows, reverse=True)[:5]
                    print("  slowest statements: " + "; ".join(f"{s:.2f} s {q}" for s, q in slow))
            rows.append((rnd, "grouping only (window query → temp table)", week,
                         run_grouping(dsn, since, end, target), ""))
        common.print_table(["round", "implementation", "week", "seconds", "result"], rows,
                           title=f"{args.learners:,} learners, {eligible:,} eligible")
        thrive = [r[3] for r in rows if r[1].startswith("thrive")]
        base = [r[3] for r in rows if r[1].startswith("baseline")]
        best_t, best_b = min(thrive), min(base)
        ratio = best_t / best_b
        print(f"\nbest thrive {best_t:.1f} s, best baseline {best_b:.1f} s → ratio {ratio:.2f} "
              f"(target ≤ {TARGET_RATIO:.0f}×: {'met' if ratio <= TARGET_RATIO else 'NOT met'}; "
              f"< {TARGET_SECONDS:.0f} s: {'met' if best_t < TARGET_SECONDS else 'NOT met'})")
        with app.app_context():
            from thrive.extensions import db

            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
