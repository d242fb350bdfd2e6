"""Admin page latency on the 100k-learner / 2M-entry PostgreSQL database (§11, §15, issue 8).

Reuses the page benchmark's machinery (:mod:`bench_pages`: bulk load, gunicorn,
closed-loop clients): in one run it

1. builds (or, with ``--reuse URL``, reuses) the database of ``bench_pages.py``
   and creates an admin account (``benchadmin``, staff, not a learner);
2. runs the ``admin_dashboard`` scheduler job's work once in-process
   (:func:`thrive.services.admin.dashboard_snapshot.refresh`: every aggregate
   computed uncached and stored as the snapshot the page reads) and times it —
   the cost the scheduler pays every 5 minutes, off the request path (it writes
   the one snapshot row, no job-run row);
3. serves Thrive with gunicorn beside the minimal page and drives, with
   ``--clients`` concurrent admin sessions: the minimal page, the dashboard
   ``/admin/`` (read from the snapshot; the page is checked to say so), a busy
   learner's admin page ``/admin/learners/<id>``;
4. prints p50/p95/p99 per target against the targets (dashboard p95 ≤ 200 ms).

Run from the repository root (heavy: do not run while others share the machine)::

    .venv/bin/python benchmarks/bench_admin.py                       # full size
    .venv/bin/python benchmarks/bench_admin.py --learners 5000 --entries 100000 --duration 5   # quick
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages as pages  # noqa: E402
import common  # noqa: E402

TARGET_DASHBOARD_P95_MS = 200.0
ADMIN_USERNAME = "benchadmin"


def prepare(uri: str, password: str) -> tuple[int, float]:
    """Create the admin (idempotent), store a fresh dashboard snapshot; return (a busy learner's id, its compute ms)."""
    from sqlalchemy import func, select

    from thrive import create_app
    from thrive.extensions import db
    from thrive.models import Learner, LedgerEntry
    from thrive.services.accounts.learners import create_learner
    from thrive.services.admin import dashboard_snapshot

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark-secret-key"})
    with app.app_context():
        if db.session.scalar(select(Learner.id).where(Learner.username == ADMIN_USERNAME)) is None:
            create_learner(ADMIN_USERNAME, "Bench Admin", password=password, staff_role="admin")
        busy = db.session.execute(select(LedgerEntry.learner_id, func.count()).group_by(LedgerEntry.learner_id)
                                  .order_by(func.count().desc()).limit(1)).first()[0]
        t0 = time.perf_counter()
        dashboard_snapshot.refresh()
        compute_ms = (time.perf_counter() - t0) * 1000
        db.session.remove()
        db.engine.dispose()
    return busy, compute_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Admin page latency with 100k learners / 2M ledger entries")
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent admin sessions")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--dashboard-cache", type=int, default=60,
                        help="THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS for the served app (0 = uncached)")
    parser.add_argument("--reuse", metavar="URL", help="measure an already loaded database (bench_pages --keep)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if not common.pg_available():
        print(f"PostgreSQL is not reachable at {common.pg_server_url()} (set {common.PG_ENV})", file=sys.stderr)
        return 2
    from bulk_load import BENCH_PASSWORD, BulkSpec, bulk_load

    report = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, s):
            sys.__stdout__.write(s)
            report.write(s)
            return len(s)

    results = []
    with redirect_stdout(Tee()):
        print("# Admin pages under load (bench_admin.py)\n")
        print(f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {common.machine_info()}; "
              f"load average at start: {os.getloadavg()[0]:.2f}")
        print(f"- load: {args.clients} concurrent admin sessions, {args.warmup:g} s warm-up + "
              f"{args.duration:g} s per target; dashboard cache {args.dashboard_cache} s")
        with (pages.reused(args.reuse) if args.reuse else common.fresh_database("postgresql", keep=args.keep)) as uri:
            dsn = common.libpq_dsn(uri)
            if not args.reuse:
                load = bulk_load(dsn, BulkSpec(learners=args.learners, entries=args.entries), log=print)
                print(f"  bulk load: {load.total_seconds():.1f} s")
                pages.run_weekly_commands(uri)
                with __import__("psycopg").connect(dsn, autocommit=True) as conn:
                    conn.execute("VACUUM (ANALYZE)")
            print("- data: " + ", ".join(f"{n:,} {t}" for t, n in
                                         pages.table_counts(dsn, ("learners", "ledger_entries")).items()))
            busy, compute_ms = prepare(uri, BENCH_PASSWORD)
            print(f"- dashboard snapshot (the scheduler job's work: every aggregate uncached, stored), in-process: "
                  f"{compute_ms:.0f} ms")
            targets = [
                pages.Target("minimal Flask page", "/", "minimal", check="<h1>Hello, learner</h1>"),
                pages.Target("dashboard `/admin/` (snapshot)", "/admin/", "thrive",
                             check="The scheduler refreshes these figures"),
                pages.Target("learner page `/admin/learners/<busy>`", f"/admin/learners/{busy}", "thrive",
                             check='id="ledger"'),
            ]
            env = {"DATABASE_URL": uri, "SECRET_KEY": "benchmark-secret-key",
                   "THRIVE_LOGIN_RATE_LIMIT": "100000 per minute", "RATELIMIT_STORAGE_URI": "memory://",
                   "THRIVE_ADMIN_DASHBOARD_CACHE_SECONDS": str(args.dashboard_cache),
                   "PYTHONDONTWRITEBYTECODE": "1"}
            logs = Path(os.environ.get("TMPDIR", "/tmp"))
            with pages.gunicorn("wsgi:app", env=env, workers=args.workers, cwd=common.ROOT,
                                log_path=logs / "bench_admin_thrive.log") as thrive_server, \
                    pages.gunicorn("bench_pages:minimal_app", env={"PYTHONDONTWRITEBYTECODE": "1"},
                                   workers=args.workers, cwd=Path(__file__).resolve().parent,
                                   log_path=logs / "bench_admin_minimal.log") as minimal_server:
                cookies = [pages.sign_in(thrive_server.port, ADMIN_USERNAME, BENCH_PASSWORD)
                           for _ in range(args.clients)]
                for target in targets:
                    if target.server == "minimal":
                        clients = [pages.Client(minimal_server.port, None) for _ in cookies]
                        pids = minimal_server.worker_pids()
                    else:
                        clients = [pages.Client(thrive_server.port, c) for c in cookies]
                        pids = thrive_server.worker_pids()
                    results.append(pages.drive(target, clients, warmup=args.warmup, duration=args.duration,
                                               app_pids=pids))
            print(f"\n## Latency under {args.clients} concurrent clients\n")
            common.print_table(
                ["target", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "worker peak RSS MiB",
                 "load avg"],
                [(m.target.name, len(m.latencies_ms), m.errors, m.throughput, m.p(50), m.p(95), m.p(99),
                  m.worker_rss_mb, m.load) for m in results])
            dash = results[1]
            print(f"\ndashboard p95 {dash.p(95):.0f} ms — target ≤ {TARGET_DASHBOARD_P95_MS:.0f} ms: "
                  f"{'met' if dash.p(95) <= TARGET_DASHBOARD_P95_MS else 'NOT met'}")
            print(f"load average after the run: {os.getloadavg()[0]:.2f}")
            for m in results:
                if m.error_samples:
                    print(f"\n{m.target.name}: {m.errors} error(s), e.g. {m.error_samples[:2]}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report.getvalue())
    return 1 if any(m.errors for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
