"""Benchmark: the full OULAD import (``flask thrive import-oulad``) on SQLite (and PostgreSQL) (§15).

Targets (issue 12): ≥ 3,000 events/s on SQLite, ≥ 2,000 on PostgreSQL (the first import, wall time).

For each backend a fresh database is created, migrated (``upgrade heads``)
and seeded (and removed at the end); then, in the same run:

- **thrive** — :func:`thrive.services.ingest.oulad.import_oulad` inside the full app
  (every blueprint and award hook loaded, production config): CSV parsing,
  bulk learner creation, and every submission through ``award_many`` (the
  batch form of ``award()``) — validation, rule, caps, idempotency, ledger,
  derived state, progression events, notifications, hooks.
- **thrive, second run** — the same import again: every row a duplicate.
- **baseline: minimal award** — on a second fresh database, the same rows
  (parsed by the same reader), learners bulk-inserted, then for every
  submission the minimum correct award written by hand in raw SQL, 1,000 per
  transaction: count the learner's uncapped awards of that type for the
  local day / ISO week (the rule's cap), insert the ledger row (event key
  unique, ``ON CONFLICT DO NOTHING``), update the learner's totals.
- **baseline: bulk insert** — the same ledger rows (points precomputed, no
  caps, no state) inserted with one ``executemany`` per 10,000 rows: the
  floor of what any import could cost on this machine.

"events/s" counts submissions handed to ``award()`` (awarded + capped;
skipped banked rows are excluded) per wall-clock second of the whole import,
including CSV parsing and learner creation. The CPU seconds of this process
are printed too, because the machine may be shared.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_import_oulad.py
    .venv/bin/python benchmarks/bench_import_oulad.py --postgres            # + local PostgreSQL
    .venv/bin/python benchmarks/bench_import_oulad.py --postgres postgresql://user@host/postgres
    .venv/bin/python benchmarks/bench_import_oulad.py --data /path/to/oulad --batch-size 2000
    .venv/bin/python benchmarks/bench_import_oulad.py --memory                # peak RSS vs file size

Memory (issue 12 item 6): the normal run prints the peak RSS (``VmHWM``) of
this process after the Thrive imports (before the baselines, which hold every
row in a list; on the second backend it includes the first's). ``--memory``
instead imports prefixes (10 %, 50 %, 100 %) of ``studentAssessment.csv``
(written to temporary folders with the same ``assessments.csv``), each into a
fresh SQLite database in a fresh child process, and prints rows, events/s,
the child's RSS with the app loaded and its peak RSS during the import: the
import is streamed (a temporary on-disk sort), so the peak stays flat.

The OULAD folder defaults to ``../shared/data/oulad`` next to the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import common  # noqa: E402  (puts the repo root on sys.path)

from thrive.services.ingest.oulad import DEFAULT_BATCH_SIZE  # noqa: E402

#: issue 12: events/s of the first import, per backend
TARGET_EVENTS_PER_S = {"sqlite": 3000, "postgresql": 2000}
DEFAULT_DATA = common.ROOT.parent / "shared" / "data" / "oulad"


class Clock:
    """Wall-clock and this process's CPU seconds since creation."""

    def __init__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall0, time.process_time() - self.cpu0


# ------------------------------------------------------------------ thrive ---

def run_thrive(uri: str, data: Path, batch_size: int) -> dict:
    """Import through Thrive twice; return figures and both summaries' counts."""
    from thrive.extensions import db
    from thrive.services.ingest.oulad import import_oulad

    app = common.bench_app(uri)
    out = {}
    with app.app_context():
        for label in ("first", "second"):
            clock = Clock()
            summary = import_oulad(data, batch_size=batch_size)
            wall, cpu = clock.stop()
            events = summary.awarded + summary.capped + summary.duplicates
            out[label] = {"summary": summary, "wall": wall, "cpu": cpu, "events": events}
            db.session.remove()
        db.engine.dispose()
    return out


# ---------------------------------------------------------------- baseline ---

def _read_rows(data: Path):
    """The submissions as Thrive reads them: (student, activity type, metadata, instant, description, key)."""
    from thrive.services.ingest.batches import ImportSummary
    from thrive.services.ingest.oulad import ACTIVITY_TYPES, read_assessments, read_submissions

    assessments, unusable = read_assessments(data)
    subs = read_submissions(data, assessments, unusable, ImportSummary())
    subs.sort(key=lambda s: (s.instant, s.student, s.assessment.id))
    return [(s, ACTIVITY_TYPES[s.assessment.assessment_type]) for s in subs]


class RawDb:
    """A DB-API connection with the placeholder style and small dialect differences hidden."""

    def __init__(self, uri: str):
        self.sqlite = uri.startswith("sqlite")
        if self.sqlite:
            self.conn = sqlite3.connect(uri[len("sqlite:///"):], isolation_level=None, timeout=60)
            for pragma in ("busy_timeout=60000", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.conn = psycopg.connect(common.libpq_dsn(uri), autocommit=True)

    def sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def execute(self, text: str, params=()):
        return self.conn.execute(self.sql(text), params)

    def executemany(self, text: str, rows) -> None:
        if self.sqlite:
            self.conn.executemany(text, rows)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(self.sql(text), rows)

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def ts(self, value: datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def day(self, value):
        return value.isoformat() if self.sqlite else value

    def close(self) -> None:
        self.conn.close()


def _rules(raw: RawDb) -> dict:
    rows = raw.execute("SELECT activity_type, category, base_points, perfect_bonus_percent, max_per_day, "
                       "max_per_week FROM point_rules").fetchall()
    return {r[0]: {"category": r[1], "base": r[2], "bonus": r[3], "day": r[4], "week": r[5]} for r in rows}


def _points(rule: dict, score) -> int:
    amount = rule["base"]
    if score == 100 and rule["bonus"]:
        amount = (amount * (100 + rule["bonus"]) + 50) // 100
    return amount


def _bulk_learners(raw: RawDb, students) -> dict[int, int]:
    now = raw.ts(datetime.now(UTC))
    raw.begin()
    raw.executemany(raw.sql(
        "INSERT INTO learners (username, display_name, timezone, external_id, is_learner, is_active_account, "
        "share_activities, share_tier_upgrades, share_profile, notification_prefs, created_at) "
        "VALUES (?, ?, 'UTC', ?, ?, ?, ?, ?, ?, '{}', ?)"),
        [(f"oulad_{s}", f"Learner {s}", f"oulad:{s}", True, True, True, True, True, now) for s in students])
    ids = {int(ext.split(":")[1]): lid for lid, ext in
           raw.execute("SELECT id, external_id FROM learners WHERE external_id LIKE ?", ("oulad:%",)).fetchall()}
    raw.executemany(raw.sql(
        "INSERT INTO learner_states (learner_id, total_points, weekly_points, peak_points, tier_key, level, "
        "current_streak, longest_streak, grace_days, quizzes_completed, projects_created, comments_posted, "
        "side_quests_completed) VALUES (?, 0, 0, 0, 'ember', 1, 0, 0, 0, 0, 0, 0, 0)"),
        [(lid,) for lid in ids.values()])
    raw.commit()
    return ids


def run_baseline_awards(uri: str, data: Path, batch: int = 1000) -> dict:
    """The minimum correct award per submission in raw SQL, ``batch`` per transaction."""
    from thrive.timeutil import local_date, week_label

    clock = Clock()
    rows = _read_rows(data)
    raw = RawDb(uri)
    rules = _rules(raw)
    ids = _bulk_learners(raw, sorted({s.student for s, _t in rows}))
    counter_sql = {"quiz_completed": ", quizzes_completed = quizzes_completed + 1"}
    awarded = capped = 0
    for start in range(0, len(rows), batch):
        raw.begin()
        for sub, activity in rows[start:start + batch]:
            rule, lid = rules[activity], ids[sub.student]
            day = local_date(sub.instant, "UTC")
            week = week_label(day)
            if rule["day"] is not None:
                (n,) = raw.execute("SELECT count(*) FROM ledger_entries WHERE learner_id = ? AND activity_type = ?"
                                   " AND local_date = ? AND capped = ?",
                                   (lid, activity, raw.day(day), False)).fetchone()
                over = n >= rule["day"]
            else:
                (n,) = raw.execute("SELECT count(*) FROM ledger_entries WHERE learner_id = ? AND activity_type = ?"
                                   " AND week = ? AND capped = ?", (lid, activity, week, False)).fetchone()
                over = n >= rule["week"]
            points = 0 if over else _points(rule, sub.score)
            meta = {"topic": sub.assessment.code_module, "score": sub.score}
            key = sub.event_key
            cur = raw.execute(
                "INSERT INTO ledger_entries (learner_id, activity_type, category, points, capped, event_key, "
                "payload_hash, metadata, occurred_at, local_date, week, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING",
                (lid, activity, rule["category"], points, over, key, hashlib.sha256(key.encode()).hexdigest(),
                 json.dumps(meta), raw.ts(sub.instant), raw.day(day), week, raw.ts(datetime.now(UTC))))
            if cur.rowcount == 1:
                raw.execute("UPDATE learner_states SET total_points = total_points + ?, peak_points = "
                            "peak_points + ?" + counter_sql.get(activity, "") + " WHERE learner_id = ?",
                            (points, points, lid))
                capped += over
                awarded += not over
        raw.commit()
    raw.close()
    wall, cpu = clock.stop()
    return {"wall": wall, "cpu": cpu, "events": awarded + capped, "awarded": awarded, "capped": capped}


def run_baseline_bulk(uri: str, data: Path, chunk: int = 10_000) -> dict:
    """Bulk-insert the same ledger rows (points precomputed, no caps, no derived state)."""
    from thrive.timeutil import local_date, week_label

    clock = Clock()
    rows = _read_rows(data)
    raw = RawDb(uri)
    rules = _rules(raw)
    ids = _bulk_learners(raw, sorted({s.student for s, _t in rows}))
    now = raw.ts(datetime.now(UTC))
    sql = raw.sql("INSERT INTO ledger_entries (learner_id, activity_type, category, points, capped, event_key, "
                  "payload_hash, metadata, occurred_at, local_date, week, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    for start in range(0, len(rows), chunk):
        params = []
        for sub, activity in rows[start:start + chunk]:
            day = local_date(sub.instant, "UTC")
            key = sub.event_key
            params.append((ids[sub.student], activity, rules[activity]["category"],
                           _points(rules[activity], sub.score), False, key,
                           hashlib.sha256(key.encode()).hexdigest(),
                           json.dumps({"topic": sub.assessment.code_module, "score": sub.score}),
                           raw.ts(sub.instant), raw.day(day), week_label(day), now))
        raw.begin()
        raw.executemany(sql, params)
        raw.commit()
    raw.close()
    wall, cpu = clock.stop()
    return {"wall": wall, "cpu": cpu, "events": len(rows)}


# -------------------------------------------------------------------- main ---

def bench_backend(kind: str, data: Path, batch_size: int) -> list[list]:
    print(f"\n## {kind}\n", flush=True)
    with common.fresh_database(kind) as uri:
        thrive = run_thrive(uri, data, batch_size)
    print(f"    peak RSS of this process after the Thrive imports: {common.peak_rss_mib():.0f} MiB "
          "(app + importer; on a second backend it includes the first's baselines)", flush=True)
    first = thrive["first"]["summary"]
    for line in first.lines():
        print("    " + line)
    second = thrive["second"]["summary"]
    print(f"    second run: awarded {second.awarded:,}, duplicates {second.duplicates:,}, "
          f"capped {second.capped:,}, rejected {second.rejected:,}")
    for label in ("first", "second"):
        r = thrive[label]
        print(f"    thrive {label} run: {r['events']:,} events in {r['wall']:.1f} s = "
              f"{r['events'] / r['wall']:,.0f} events/s ({r['cpu']:.1f} CPU s in this process); "
              f"load average now: {_load()}", flush=True)
    with common.fresh_database(kind) as uri:
        minimal = run_baseline_awards(uri, data)
    with common.fresh_database(kind) as uri:
        bulk = run_baseline_bulk(uri, data)
    print(f"    baselines done; load average now: {_load()}", flush=True)
    if (minimal["awarded"], minimal["capped"]) != (first.awarded, first.capped):
        print(f"    note: baseline awarded/capped {minimal['awarded']:,}/{minimal['capped']:,} "
              f"vs Thrive {first.awarded:,}/{first.capped:,}")
    rows = []
    for name, r in (("thrive import (award_many)", thrive["first"]),
                    ("thrive re-import (all duplicates)", thrive["second"]),
                    ("baseline: minimal award, raw SQL", minimal),
                    ("baseline: bulk insert, raw SQL", bulk)):
        rows.append([kind, name, r["events"], r["wall"], r["events"] / r["wall"], r["cpu"],
                     r["events"] / r["cpu"] if r["cpu"] else float("nan")])
    return rows


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _child_import(uri: str, data: Path, batch_size: int) -> int:
    """``--child-import``: one import in this (fresh) process; prints a JSON line of figures."""
    from thrive.extensions import db
    from thrive.services.ingest.oulad import import_oulad

    app = common.bench_app(uri)
    with app.app_context():
        rss_app = common.peak_rss_mib()
        clock = Clock()
        summary = import_oulad(data, batch_size=batch_size)
        wall, cpu = clock.stop()
        db.session.remove()
        db.engine.dispose()
    print(json.dumps({"rows": summary.rows_read, "events": summary.awarded + summary.capped + summary.duplicates,
                      "wall": wall, "cpu": cpu, "rss_app": rss_app, "rss_peak": common.peak_rss_mib()}))
    return 0


def bench_memory(data: Path, batch_size: int, fractions=(0.1, 0.5, 1.0)) -> None:
    """Peak RSS of the importer for prefixes of ``studentAssessment.csv``, each in a fresh child on SQLite."""
    import subprocess
    import tempfile

    lines = (data / "studentAssessment.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    del lines
    rows = []
    with tempfile.TemporaryDirectory(prefix="thrive_oulad_prefix_") as tmp:
        for fraction in fractions:
            folder = Path(tmp) / f"{fraction:.0%}".replace("%", "pc")
            folder.mkdir()
            (folder / "assessments.csv").write_bytes((data / "assessments.csv").read_bytes())
            (folder / "studentAssessment.csv").write_text(header + "".join(body[:round(len(body) * fraction)]),
                                                          encoding="utf-8")
            with common.fresh_database("sqlite") as uri:
                done = subprocess.run([sys.executable, __file__, "--child-import", uri, "--data", str(folder),
                                       "--batch-size", str(batch_size)], capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append([f"{fraction:.0%}", r["rows"], r["events"], r["wall"], r["events"] / r["wall"],
                         r["rss_app"], r["rss_peak"], r["rss_peak"] - r["rss_app"]])
            print(f"    {fraction:.0%}: {r['rows']:,} rows, peak RSS {r['rss_peak']:.0f} MiB", flush=True)
    common.print_table(["prefix", "rows read", "events", "wall s", "events/s", "RSS app loaded MiB",
                        "peak RSS MiB", "import's share MiB"], rows,
                       title="Importer peak RSS vs file size (SQLite, one fresh process per row)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="OULAD folder (default: %(default)s)")
    parser.add_argument("--postgres", nargs="?", const="", default=None, metavar="URL",
                        help="also run on PostgreSQL (server URL; default THRIVE_BENCH_PG_URL or local)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help=f"awards per import call, as `flask thrive import-oulad` (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--memory", action="store_true",
                        help="peak RSS of the import for 10/50/100 %% prefixes of the file (SQLite, child processes)")
    parser.add_argument("--child-import", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_import:
        return _child_import(args.child_import, args.data, args.batch_size)
    if not (args.data / "studentAssessment.csv").is_file():
        print(f"OULAD data not found in {args.data}; pass --data DIR", file=sys.stderr)
        return 2
    if args.postgres:
        os.environ[common.PG_ENV] = args.postgres
    print("# OULAD import benchmark\n")
    print(common.machine_info())
    print(f"data: {args.data}; batch size {args.batch_size}")
    if args.memory:
        bench_memory(args.data, args.batch_size)
        return 0
    rows = []
    if not args.no_sqlite:
        rows += bench_backend("sqlite", args.data, args.batch_size)
    if args.postgres is not None:
        if not common.pg_available():
            print(f"PostgreSQL at {common.pg_server_url()} is not reachable", file=sys.stderr)
            return 2
        rows += bench_backend("postgresql", args.data, args.batch_size)
    common.print_table(["backend", "run", "events", "wall s", "events/s", "CPU s (this process)",
                        "events per CPU s"], rows, title="Results")
    for row in rows:
        if row[1].startswith("thrive import"):
            target = TARGET_EVENTS_PER_S[row[0]]
            verdict = "met" if row[4] >= target else "NOT met"
            print(f"\nTarget ≥ {target:,} events/s on {row[0]}: {row[4]:,.0f} events/s — {verdict} "
                  f"(load average now: {_load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
