"""Benchmark: ``award()`` in-process vs a raw-SQL baseline, on SQLite and PostgreSQL (§15).

For each backend a fresh database is created, migrated and seeded (and
removed at the end). N learners each receive M awards of a capped activity
(``comment_posted``: 5 points, 20 per local day, so with M > 20 the rest are
written as capped 0-point entries), round-robin over the learners, all with
the same ``occurred_at`` (so every award falls on one local day).

Two implementations do the same awards, in the same run, on the same schema
and through the same driver (psycopg 3 / sqlite3):

- **thrive** — ``thrive.services.points.award()`` inside the full app
  (``create_app`` with every blueprint and award hook loaded): validation,
  rule lookup, caps, idempotency, ledger entry, derived state (totals,
  weekly points, tier, level, streak, lifetime counter), hooks, stored result.
- **baseline** — the minimum correct transaction written by hand: lock the
  learner's state row (``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN
  IMMEDIATE`` on SQLite), count today's uncapped awards of that type, insert
  the ledger row, update the totals; commit.

Variants: sequential single client (both backends) and, on PostgreSQL, 4
threads each awarding to its own learners. Rounds alternate the order
(baseline first, then thrive first) to cancel warm-up/order effects; each
variant gets fresh learners per round. After the run the ledger is checked:
every learner must have exactly min(M, 20) uncapped awards and
5 × min(M, 20) points in both the ledger and its state row.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_award.py                  # defaults: 40 learners × 25 awards, 2 rounds
    .venv/bin/python benchmarks/bench_award.py --learners 100 --awards 30 --rounds 3 --backends postgresql

PostgreSQL server: ``THRIVE_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import common  # noqa: E402  (puts the repo root on sys.path)

ACTIVITY = "comment_posted"
TARGET_RATIO = 0.5
#: username prefix of each implementation's learners
PREFIX = {"baseline": "b", "thrive": "t", "thrive-core": "c"}


# ---------------------------------------------------------------- baseline ---

class RawAward:
    """The hand-written minimum correct award transaction on one DB-API connection.

    ``award(learner_id, event_key, occurred_at)`` → (points, capped). The rule
    (points, category, daily cap) is read once from ``point_rules`` up front.
    """

    def __init__(self, uri: str, rule: dict):
        from thrive.timeutil import local_date, week_label  # noqa: F401  (same helpers as award())

        self.rule = rule
        self.kind = "sqlite" if uri.startswith("sqlite") else "postgresql"
        if self.kind == "sqlite":
            path = uri[len("sqlite:///"):]
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
            # the same connection settings Thrive uses (thrive/db.py)
            for pragma in ("busy_timeout=60000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.conn = psycopg.connect(common.libpq_dsn(uri))

    def close(self) -> None:
        self.conn.close()

    def award(self, learner_id: int | None, event_key: str, occurred_at: datetime,
              external_id: str | None = None) -> tuple[int, bool]:
        """One award; with ``external_id`` the learner is found by it in the locking query.

        Raises ``LookupError`` for an unknown learner.
        """
        from thrive.timeutil import local_date, week_label

        rule = self.rule
        payload_hash = hashlib.sha256(f"{ACTIVITY}|{occurred_at.isoformat()}".encode()).hexdigest()
        if self.kind == "sqlite":
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
                where, key = ("l.external_id = ?", external_id) if external_id else ("s.learner_id = ?", learner_id)
                row = c.execute("SELECT s.learner_id, l.timezone FROM learner_states s "
                                f"JOIN learners l ON l.id = s.learner_id WHERE {where}", (key,)).fetchone()
                if row is None:
                    raise LookupError(f"no learner {key!r}")
                learner_id, tz = row
                day = local_date(occurred_at, tz)
                week = week_label(local_date(occurred_at, "UTC"))
                (n,) = c.execute("SELECT count(*) FROM ledger_entries WHERE learner_id = ? AND activity_type = ? "
                                 "AND local_date = ? AND capped = 0",
                                 (learner_id, ACTIVITY, day.isoformat())).fetchone()
                capped = n >= rule["max_per_day"]
                points = 0 if capped else rule["base_points"]
                ts = occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")
                c.execute("INSERT INTO ledger_entries (learner_id, activity_type, category, points, capped, event_key,"
                          " payload_hash, occurred_at, local_date, week, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (learner_id, ACTIVITY, rule["category"], points, int(capped), event_key, payload_hash,
                           ts, day.isoformat(), week, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))
                c.execute("UPDATE learner_states SET total_points = total_points + ?,"
                          " weekly_points = CASE WHEN weekly_week = ? THEN weekly_points + ? ELSE ? END,"
                          " weekly_week = ?, peak_points = max(peak_points, total_points + ?),"
                          " comments_posted = comments_posted + 1 WHERE learner_id = ?",
                          (points, week, points, points, week, points, learner_id))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            return points, capped
        with self.conn.transaction():
            c = self.conn
            where, key = ("l.external_id = %s", external_id) if external_id else ("s.learner_id = %s", learner_id)
            row = c.execute("SELECT s.learner_id, l.timezone FROM learner_states s "
                            f"JOIN learners l ON l.id = s.learner_id WHERE {where} FOR UPDATE OF s",
                            (key,)).fetchone()
            if row is None:
                raise LookupError(f"no learner {key!r}")
            learner_id, tz = row
            day = local_date(occurred_at, tz)
            week = week_label(local_date(occurred_at, "UTC"))
            (n,) = c.execute("SELECT count(*) FROM ledger_entries WHERE learner_id = %s AND activity_type = %s "
                             "AND local_date = %s AND NOT capped", (learner_id, ACTIVITY, day)).fetchone()
            capped = n >= rule["max_per_day"]
            points = 0 if capped else rule["base_points"]
            c.execute("INSERT INTO ledger_entries (learner_id, activity_type, category, points, capped, event_key,"
                      " payload_hash, occurred_at, local_date, week, created_at)"
                      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())",
                      (learner_id, ACTIVITY, rule["category"], points, capped, event_key, payload_hash,
                       occurred_at, day, week))
            c.execute("UPDATE learner_states SET total_points = total_points + %s,"
                      " weekly_points = CASE WHEN weekly_week = %s THEN weekly_points + %s ELSE %s END,"
                      " weekly_week = %s, peak_points = greatest(peak_points, total_points + %s),"
                      " comments_posted = comments_posted + 1 WHERE learner_id = %s",
                      (points, week, points, points, week, points, learner_id))
        return points, capped


def read_rule(app) -> dict:
    """The seeded rule of :data:`ACTIVITY` as a dict (points, category, daily cap)."""
    from thrive.extensions import db
    from thrive.models import PointRule

    with app.app_context():
        r = db.session.get(PointRule, ACTIVITY)
        rule = {"base_points": r.base_points, "category": r.category, "max_per_day": r.max_per_day}
        db.session.remove()
    if rule["max_per_day"] is None:
        raise SystemExit(f"{ACTIVITY} has no daily cap in this database")
    return rule


# ------------------------------------------------------------------ drivers ---

def _plan(learner_ids: list[int], awards: int, tag: str) -> list[tuple[int, str]]:
    """Round-robin (learner id, event key) list: every learner gets ``awards`` awards."""
    return [(lid, f"bench:{tag}:{lid}:{i}") for i in range(awards) for lid in learner_ids]


def hook_names() -> list[str]:
    """The award hooks registered by the app's hooked services (module.function)."""
    from thrive.services.points.award import _award_hooks

    return [f"{h.__module__.rsplit('.', 1)[-1]}.{h.__name__}" for h in _award_hooks]


@contextmanager
def hooks_detached():
    """Temporarily run award() without its registered hooks (diagnostic variant only)."""
    from thrive.services.points import award as points

    saved = list(points._award_hooks)
    points._award_hooks[:] = []
    try:
        yield
    finally:
        points._award_hooks[:] = saved


def run_thrive(app, learner_ids, awards, occurred_at, tag, threads=1) -> tuple[float, float]:
    """Award through ``award()``; return (elapsed seconds, CPU seconds of this process)."""
    from thrive.extensions import db
    from thrive.services.points.award import award

    parts = [learner_ids[i::threads] for i in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def worker(ids):
        try:
            with app.app_context():
                plan = _plan(ids, awards, tag)
                barrier.wait()
                for lid, key in plan:
                    award(lid, ACTIVITY, event_key=key, occurred_at=occurred_at)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
            raise

    workers = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for w in workers:
        w.start()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if errors:
        raise RuntimeError(f"thrive worker failed: {errors[0]!r}")
    return elapsed, cpu


def run_baseline(uri, rule, learner_ids, awards, occurred_at, tag, threads=1) -> tuple[float, float]:
    """Award through :class:`RawAward` (one connection per thread); return (elapsed, CPU) seconds."""
    parts = [learner_ids[i::threads] for i in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def worker(ids):
        raw = RawAward(uri, rule)
        try:
            plan = _plan(ids, awards, tag)
            barrier.wait()
            for lid, key in plan:
                raw.award(lid, key, occurred_at)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
            raise
        finally:
            raw.close()

    workers = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for w in workers:
        w.start()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if errors:
        raise RuntimeError(f"baseline worker failed: {errors[0]!r}")
    return elapsed, cpu


def check_results(app, learner_ids, awards, rule) -> None:
    """Every learner has exactly min(M, cap) uncapped awards and matching points in ledger and state."""
    from sqlalchemy import Integer, cast, func, select

    from thrive.extensions import db
    from thrive.models import LearnerState, LedgerEntry

    uncapped = min(awards, rule["max_per_day"])
    expect_points = uncapped * rule["base_points"]
    with app.app_context():
        rows = db.session.execute(
            select(LedgerEntry.learner_id, func.count(), func.sum(LedgerEntry.points),
                   func.sum(cast(LedgerEntry.capped, Integer)))
            .where(LedgerEntry.learner_id.in_(learner_ids)).group_by(LedgerEntry.learner_id)
        ).all()
        totals = dict(db.session.execute(
            select(LearnerState.learner_id, LearnerState.total_points)
            .where(LearnerState.learner_id.in_(learner_ids))
        ).all())
        db.session.remove()
    if len(rows) != len(learner_ids):
        raise AssertionError(f"expected ledger rows for {len(learner_ids)} learners, got {len(rows)}")
    for lid, n, pts, capped in rows:
        if n != awards or pts != expect_points or capped != awards - uncapped or totals[lid] != expect_points:
            raise AssertionError(f"learner {lid}: {n} entries, {pts} points, {capped} capped, "
                                 f"state total {totals[lid]}; expected {awards}/{expect_points}/"
                                 f"{awards - uncapped}/{expect_points}")


# --------------------------------------------------------------------- main ---

def bench_backend(kind: str, args) -> list[dict]:
    """Run every variant on one backend; return result rows."""
    variants = [("sequential", 1)]
    if kind == "postgresql" and args.threads > 1:
        variants.append((f"{args.threads} threads", args.threads))
    results = []
    with common.fresh_database(kind) as uri:
        app = common.bench_app(uri)
        rule = read_rule(app)
        occurred_at = datetime.now(UTC).replace(microsecond=0)
        run_id = uuid.uuid4().hex[:8]
        # warm-up: imports, registry cache, prepared statements, connection pools
        warm = [lid for lid, _ in common.create_learners(app, f"warm{run_id}_", 4)]
        run_thrive(app, warm[:2], 5, occurred_at, f"warm-t-{run_id}")
        run_baseline(uri, rule, warm[2:], 5, occurred_at, f"warm-b-{run_id}")
        for name, threads in variants:
            impls = ["baseline", "thrive"] + (["thrive-core"] if threads == 1 and args.core else [])
            totals = {impl: [0, 0.0, 0.0] for impl in impls}
            for rnd in range(args.rounds):
                order = impls if rnd % 2 == 0 else impls[::-1]
                for impl in order:
                    prefix = f"{PREFIX[impl]}{threads}r{rnd}_{run_id}_"
                    ids = [lid for lid, _ in common.create_learners(app, prefix, args.learners)]
                    tag = f"{prefix}{name}"
                    if impl == "thrive":
                        elapsed, cpu = run_thrive(app, ids, args.awards, occurred_at, tag, threads)
                    elif impl == "thrive-core":
                        with hooks_detached():
                            elapsed, cpu = run_thrive(app, ids, args.awards, occurred_at, tag, threads)
                    else:
                        elapsed, cpu = run_baseline(uri, rule, ids, args.awards, occurred_at, tag, threads)
                    check_results(app, ids, args.awards, rule)
                    totals[impl][0] += len(ids) * args.awards
                    totals[impl][1] += elapsed
                    totals[impl][2] += cpu
            base_rate = totals["baseline"][0] / totals["baseline"][1]
            for impl in ["thrive", "thrive-core", "baseline"]:
                if impl not in totals:
                    continue
                n, secs, cpu = totals[impl]
                rate = n / secs
                results.append({
                    "backend": kind, "variant": name, "impl": impl, "awards": n, "seconds": round(secs, 3),
                    "awards_per_s": round(rate, 1), "ms_per_award": round(1000 * secs / n, 3),
                    "cpu_ms_per_award": round(1000 * cpu / n, 3),
                    "ratio": round(rate / base_rate, 3),
                })
        from thrive.extensions import db

        with app.app_context():
            db.engine.dispose()
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=int, default=40, help="learners per variant and round (default 40)")
    p.add_argument("--awards", type=int, default=25, help="awards per learner (default 25; cap is 20/day)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, alternating order (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads of the concurrent PostgreSQL variant")
    p.add_argument("--backends", default="sqlite,postgresql", help="comma list: sqlite,postgresql")
    p.add_argument("--no-core", dest="core", action="store_false",
                   help="skip the diagnostic 'thrive-core' variant (award() with its hooks detached)")
    p.add_argument("--json", type=Path, help="also write the result rows to this JSON file")
    args = p.parse_args(argv)

    print(f"# award() vs raw-SQL baseline — {ACTIVITY}, {args.learners} learners × {args.awards} awards "
          f"× {args.rounds} rounds per variant")
    print(f"machine: {common.machine_info()}")
    rows = []
    for kind in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if kind == "postgresql" and not common.pg_available():
            print(f"\n(skipping PostgreSQL: {common.pg_server_url()} is not reachable)")
            continue
        rows.extend(bench_backend(kind, args))
    common.print_table(
        ["backend", "variant", "impl", "awards", "seconds", "awards/s", "ms/award", "client CPU ms/award",
         "of baseline"],
        [[r["backend"], r["variant"], r["impl"], r["awards"], r["seconds"], r["awards_per_s"], r["ms_per_award"],
          f"{r['cpu_ms_per_award']:.2f}", f"{r['ratio']:.0%}" if r["impl"] != "baseline" else ""] for r in rows],
        title="Results (ledger checked: exact caps and totals for every learner)",
    )
    print(f"award hooks in 'thrive': {', '.join(hook_names()) or 'none'}; "
          "'thrive-core' = award() with them detached (diagnostic, not the target)")
    print("client CPU = CPU time of this Python process per award (not the database server's); "
          f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"peak RSS of this benchmark process (all variants, app and clients in-process): "
          f"{common.peak_rss_mib():.0f} MiB")
    verdict = 0
    pg_rows = [r for r in rows if r["backend"] == "postgresql" and r["impl"] == "thrive"]
    for r in pg_rows:
        met = r["ratio"] >= TARGET_RATIO
        print(f"target PostgreSQL {r['variant']}: thrive ≥ {TARGET_RATIO:.0%} of baseline → "
              f"{'MET' if met else 'NOT MET'} ({r['ratio']:.0%})")
    if args.json:
        args.json.write_text(json.dumps({"machine": common.machine_info(),
                                         "args": vars(args) | {"json": str(args.json)},
                                         "results": rows}, indent=2))
    return verdict


if __name__ == "__main__":
    raise SystemExit(main())
