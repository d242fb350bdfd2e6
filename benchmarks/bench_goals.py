"""Benchmark: weekly goal creation for 1,000,000 learners on PostgreSQL vs one INSERT … SELECT (§6.2, §15).

A fresh database ``thrive_bench_<random>`` is created, migrated and seeded
(four default goal templates) and dropped at the end. N learners and their
derived-state rows are bulk-loaded with ``COPY``: a realistic tier mix
(Ember 45 %, Spark 30 %, Blaze 15 %, Beacon 8 %, Phoenix 2 %), a mix of time
zones, 85 % with a last award inside the 28-day eligibility window before the
week starts and the rest older. A few learners (``--early``, default 1,000)
also get a ledger entry in the first minutes of the new week — what the
Monday 00:05 job meets in production, awards made between midnight and the
job — so their goals must be brought up to date from the ledger.

Then, in the same run, on the same tables, for the same week:

- **thrive** — ``thrive.services.weekly.goals.create_weekly_goals(week)`` inside the
  full app: an eligibility count, one set-based ``INSERT … SELECT`` of enabled
  templates × eligible learners with ``ON CONFLICT DO NOTHING``, then the
  ledger refresh of the learners who already have awards this week (their
  goals progress exactly as if they had existed at the award).
- **baseline** — a single hand-written ``INSERT … SELECT`` producing the same
  goal rows (no conflict handling, no refresh).

Rounds alternate the order (baseline first, then thrive first); the
``weekly_goals`` table is truncated (and a ``CHECKPOINT`` taken) before every
run so each starts from the same state. After each thrive run the rows are
checked: templates × eligible learners, each learner once per template, and
the early learners' goals carry the progress of their early award.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_goals.py                        # 1,000,000 learners, 2 rounds
    .venv/bin/python benchmarks/bench_goals.py --learners 100000 --rounds 1

PostgreSQL server: ``THRIVE_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres).
Target: thrive within 2× the baseline and under 60 s.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import datetime, timedelta

import common  # noqa: E402  (puts the repo root on sys.path)

TIER_MIX = [("ember", 0.45, 0, 249), ("spark", 0.30, 250, 499), ("blaze", 0.15, 500, 999),
            ("beacon", 0.08, 1000, 2499), ("phoenix", 0.02, 2500, 20000)]
TIMEZONES = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
ELIGIBLE_SHARE = 0.85
TARGET_RATIO = 2.0
TARGET_SECONDS = 60.0
WEEK = "2030-W10"

BASELINE_SQL = """
INSERT INTO weekly_goals (learner_id, week, template_id, title, kind, activity_types, target, progress, reward,
                          created_at)
SELECT s.learner_id, %(week)s, t.id, t.title, t.kind, t.activity_types, t.target, 0, t.reward, now()
FROM learner_states s
JOIN learners l ON l.id = s.learner_id
CROSS JOIN goal_templates t
WHERE t.enabled AND l.is_active_account AND s.last_award_at >= %(since)s
"""


def load_population(dsn: str, n: int, start: datetime, early: int, seed: int = 11) -> tuple[int, list[int]]:
    """COPY ``n`` learners + state rows (+ ``early`` ledger entries in the week); return (eligible, early ids)."""
    import psycopg

    rng = random.Random(seed)
    t0 = time.perf_counter()
    cumulative, acc = [], 0.0
    for key, share, low, high in TIER_MIX:
        acc += share
        cumulative.append((acc, key, low, high))
    eligible = 0
    recent: list[int] = []
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        created = start - timedelta(days=200)
        with cur.copy("COPY learners (id, username, display_name, timezone, is_learner, is_active_account, "
                      "share_activities, share_tier_upgrades, share_profile, notification_prefs, created_at) "
                      "FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row((i, f"bench{i}", f"Bench Learner {i}", TIMEZONES[i % len(TIMEZONES)], True, True,
                                True, True, True, "{}", created))
        with cur.copy("COPY learner_states (learner_id, total_points, weekly_points, weekly_week, peak_points, "
                      "tier_key, level, current_streak, longest_streak, grace_days, last_award_at, "
                      "quizzes_completed, projects_created, comments_posted, side_quests_completed) "
                      "FROM STDIN") as copy:
            for i in range(1, n + 1):
                r = rng.random()
                tier = next(t for t in cumulative if r <= t[0]) if r <= cumulative[-1][0] else cumulative[-1]
                total = rng.randint(tier[2], tier[3])
                if rng.random() < ELIGIBLE_SHARE:
                    last = start - timedelta(seconds=rng.randint(60, 27 * 86400))
                    eligible += 1
                    recent.append(i)
                else:
                    last = start - timedelta(days=rng.randint(29, 200))
                copy.write_row((i, total, 0, None, total, tier[1], 1, 0, 0, 0, last, 0, 0, 0, 0))
        early_ids = sorted(rng.sample(recent, min(early, len(recent))))
        at = start + timedelta(minutes=2)
        with cur.copy("COPY ledger_entries (learner_id, activity_type, category, points, capped, event_key, "
                      "payload_hash, metadata, occurred_at, local_date, week, created_at) FROM STDIN") as copy:
            for i in early_ids:
                copy.write_row((i, "quiz_completed", "learning", 20, False, f"early:{i}", "0" * 64,
                                '{"topic": "Benchmarks"}', at, at.date(), WEEK, at))
        cur.execute("UPDATE learner_states SET last_award_at = %s, last_active_date = %s, "
                    "total_points = total_points + 20, peak_points = peak_points + 20 "
                    "WHERE learner_id = ANY(%s)", (at, at.date(), early_ids))
        cur.execute("SELECT setval(pg_get_serial_sequence('learners', 'id'), %s)", (n,))
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE learners")
        conn.execute("VACUUM ANALYZE learner_states")
        conn.execute("VACUUM ANALYZE ledger_entries")
    print(f"loaded {n:,} learners ({eligible:,} eligible, {len(early_ids):,} with an award this week) "
          f"with COPY in {time.perf_counter() - t0:.1f} s", flush=True)
    return eligible, early_ids


def reset(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE weekly_goals RESTART IDENTITY")
        conn.execute("DELETE FROM notifications WHERE type = 'weekly_goal_completed'")
        conn.execute("DELETE FROM ledger_entries WHERE activity_type = 'weekly_goal_completed'")
        conn.execute("CHECKPOINT")


def run_baseline(dsn: str, since: datetime) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        cur = conn.execute(BASELINE_SQL, {"week": WEEK, "since": since})
        rows = cur.rowcount
        conn.commit()
        return time.perf_counter() - t0, rows


def run_thrive(app) -> tuple[float, dict]:
    from thrive.extensions import db
    from thrive.services.weekly.goals import create_weekly_goals

    with app.app_context():
        t0 = time.perf_counter()
        counts = create_weekly_goals(WEEK)
        elapsed = time.perf_counter() - t0
        db.session.remove()
    return elapsed, counts


def check(dsn: str, eligible: int, templates: int, early_ids: list[int]) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        total, learners = conn.execute(
            "SELECT count(*), count(DISTINCT learner_id) FROM weekly_goals WHERE week = %s", (WEEK,)).fetchone()
        dupes = conn.execute("SELECT count(*) FROM (SELECT 1 FROM weekly_goals GROUP BY learner_id, week, template_id "
                             "HAVING count(*) > 1) d").fetchone()[0]
        progressed = conn.execute(
            "SELECT count(DISTINCT g.learner_id) FROM weekly_goals g JOIN goal_templates t ON t.id = g.template_id "
            "WHERE g.week = %s AND t.key = 'complete_activities' AND g.progress = 1 AND g.learner_id = ANY(%s)",
            (WEEK, early_ids)).fetchone()[0]
    ok = total == eligible * templates and learners == eligible and dupes == 0 and progressed == len(early_ids)
    return (f"{'ok' if ok else 'MISMATCH'}: {total:,} goals for {learners:,} learners, duplicates {dupes}, "
            f"early learners progressed {progressed:,}/{len(early_ids):,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--early", type=int, default=1_000,
                        help="learners with an award in the new week before the job (refreshed from the ledger)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()
    if not common.pg_available():
        print(f"PostgreSQL is not reachable at {common.pg_server_url()}; nothing to measure.")
        return 1

    from thrive.timeutil import week_start_instant

    print("# Weekly goal creation benchmark (§6.2, §15)")
    print(common.machine_info())
    start = week_start_instant(WEEK, "UTC")
    since = start - timedelta(days=28)
    with common.fresh_database("postgresql", keep=args.keep) as uri:
        if args.keep:
            print(f"database: {uri}")
        dsn = common.libpq_dsn(uri)
        eligible, early_ids = load_population(dsn, args.learners, start, args.early)
        app = common.bench_app(uri, THRIVE_TIMEZONE="UTC")
        import psycopg

        with psycopg.connect(dsn) as conn:
            templates = conn.execute("SELECT count(*) FROM goal_templates WHERE enabled").fetchone()[0]
        rows, base_times, thrive_times = [], [], []
        for rnd in range(1, args.rounds + 1):
            order = ("baseline", "thrive") if rnd % 2 else ("thrive", "baseline")
            for which in order:
                reset(dsn)
                if which == "baseline":
                    elapsed, inserted = run_baseline(dsn, since)
                    base_times.append(elapsed)
                    rows.append((rnd, "baseline (one INSERT … SELECT)", inserted, elapsed, "-"))
                else:
                    elapsed, counts = run_thrive(app)
                    thrive_times.append(elapsed)
                    verdict = check(dsn, eligible, templates, early_ids)
                    rows.append((rnd, "thrive create_weekly_goals()", counts["created"], elapsed,
                                 f"refreshed {counts['refreshed']:,}, completed {counts['completed']:,}; {verdict}"))
                print(f"round {rnd}: {which} {elapsed:.1f} s", flush=True)
        common.print_table(["round", "implementation", "goal rows", "seconds", "notes"], rows,
                           title=f"{args.learners:,} learners, {eligible:,} eligible × {templates} templates")
        base, thrive = statistics.median(base_times), statistics.median(thrive_times)
        ratio = thrive / base if base else float("nan")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\nload average during the run (1/5/15 min, {os.cpu_count()} cores): {load}")
        print(f"median: thrive {thrive:.1f} s, baseline {base:.1f} s, ratio {ratio:.2f}× "
              f"(target ≤ {TARGET_RATIO:.0f}× and < {TARGET_SECONDS:.0f} s: "
              f"{'met' if ratio <= TARGET_RATIO and thrive < TARGET_SECONDS else 'NOT met'})")
        with app.app_context():
            from thrive.extensions import db

            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
