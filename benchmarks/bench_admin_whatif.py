"""The ladder what-if preview with 100,000 learners / 2,000,000 ledger entries on PostgreSQL (§5, §11, issue 8).

Target: p95 ≤ 500 ms under 8 clients. One run:

1. builds the page benchmark's database (:mod:`bulk_load`, as ``bench_pages.py``)
   or measures an existing one (``--reuse URL``, e.g. kept with ``bench_pages.py --keep``);
2. adds an admin account (``bench_admin``, not a learner);
3. in-process: times :func:`thrive.services.admin.ladder.what_if` (the one
   grouped SQL query over ``learner_states`` plus the Python fold) ``--repeats`` times
   and prints ``EXPLAIN ANALYZE`` of its query;
4. over HTTP: gunicorn (``wsgi:app``, 2 sync workers) and the minimal Flask page
   of ``bench_pages.py`` beside it; ``--clients`` admin sessions post the what-if
   form (``POST /admin/ladder``, ``action=preview``, ``HX-Request``: the fragment)
   in a closed loop after a warm-up, and the minimal page is driven the same way;
5. prints p50/p95/p99 per target against the 500 ms target.

Run from the repository root (heavy: do not run it while others use the machine)::

    .venv/bin/python benchmarks/bench_admin_whatif.py                       # full size
    .venv/bin/python benchmarks/bench_admin_whatif.py --learners 5000 --entries 100000 --duration 3   # quick
"""
from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages  # noqa: E402
import common  # noqa: E402

TARGET_P95_MS = 500.0
ADMIN = "bench_admin"


def proposed_ladder(current: dict) -> tuple[list[dict], list[int]]:
    """A ladder that moves things: every tier threshold above Ember 20% lower, a snowballing level curve."""
    from thrive.services.admin.ladder import curve_thresholds

    tiers = [dict(t, threshold=int(t["threshold"] * 0.8)) for t in current["tiers"]]
    return tiers, curve_thresholds("snowballing", 30, 40, 0.15)


def form_body(tiers: list[dict], levels: list[int], token: str) -> str:
    data = {"csrf_token": token, "action": "preview", "levels": ", ".join(map(str, levels)), "announce": "silent",
            "curve": "linear", "curve_count": "23", "curve_base": "50", "curve_coefficient": "0.2"}
    for i, t in enumerate(tiers):
        for name in ("key", "name", "threshold", "emoji", "colour", "tagline"):
            data[f"tiers-{i}-{name}"] = str(t[name])
    return urllib.parse.urlencode(data)


def in_process(uri: str, repeats: int) -> tuple[list[float], str, int]:
    """(milliseconds per what_if() call, EXPLAIN ANALYZE of its grouped query, learners counted)."""
    from sqlalchemy import text

    from thrive.extensions import db
    from thrive.services.admin import ladder, ladder_counts

    app = common.bench_app(uri)
    with app.app_context():
        tiers, levels = proposed_ladder(ladder.current_ladder())
        timings, counted = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = ladder.what_if(tiers, levels)
            timings.append((time.perf_counter() - t0) * 1000)
            counted = result.learners
        clean = ladder.validate_ladder(tiers, levels, check_in_use=False)
        stmt = ladder_counts.bucketed_query(clean["tiers"], clean["levels"])  # the query what_if runs on PostgreSQL
        compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")))
        db.session.remove()
    return timings, plan, counted


def add_admin(uri: str) -> None:
    from bulk_load import BENCH_PASSWORD
    from sqlalchemy import select

    from thrive.extensions import db
    from thrive.models import Learner
    from thrive.services.accounts.learners import create_learner

    app = common.bench_app(uri)
    with app.app_context():
        if db.session.scalar(select(Learner.id).where(Learner.username == ADMIN)) is None:
            create_learner(ADMIN, "Bench Admin", password=BENCH_PASSWORD, staff_role="admin")
        db.session.remove()


def admin_session(port: int) -> tuple[str, str]:
    """Sign the admin in; return (session cookie, CSRF token of the ladder page)."""
    import requests
    from bulk_load import BENCH_PASSWORD

    with requests.Session() as s:
        page = s.get(f"http://127.0.0.1:{port}/login", timeout=30)
        token = bench_pages.CSRF_RE.search(page.text).group(1)
        r = s.post(f"http://127.0.0.1:{port}/login", allow_redirects=False, timeout=30,
                   data={"username": ADMIN, "password": BENCH_PASSWORD, "csrf_token": token})
        if r.status_code != 302:
            raise RuntimeError(f"admin sign-in failed with HTTP {r.status_code}")
        page = s.get(f"http://127.0.0.1:{port}/admin/ladder", timeout=60)
        token = bench_pages.CSRF_RE.search(page.text).group(1)
        return s.cookies["session"], token


def drive_post(port: int, cookie: str, body: str, clients: int, *, warmup: float, duration: float
               ) -> bench_pages.Measurement:
    """Closed loop of ``clients`` threads posting the what-if form; latencies of 200 fragments only."""
    target = bench_pages.Target("what-if `POST /admin/ladder` (HX-Request)", "/admin/ladder", "thrive", htmx=True)
    result = bench_pages.Measurement(target)
    lock = threading.Lock()
    start_at = time.perf_counter() + warmup
    stop_at = start_at + duration
    headers = {"Cookie": f"session={cookie}", "HX-Request": "true", "Accept": "text/html",
               "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "thrive-bench-whatif"}

    def loop() -> None:
        mine, errors = [], []
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                conn.request("POST", "/admin/ladder", body=body, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                good = resp.status == 200 and 'data-figure="promoted"' in text and "<html" not in text
                why = f"HTTP {resp.status}: {text[:120]!r}"
            except OSError as exc:
                good, why = False, repr(exc)
            finally:
                conn.close()
            t1 = time.perf_counter()
            if t0 >= start_at and t1 <= stop_at:
                (mine if good else errors).append((t1 - t0) * 1000 if good else why)
        with lock:
            result.latencies_ms.extend(mine)
            result.errors += len(errors)
            result.error_samples.extend(errors[:3])

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = duration
    result.load = os.getloadavg()[0]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="What-if preview latency with 100k learners / 2M ledger entries")
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=20, help="in-process what_if() calls")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="URL", help="measure an already loaded database")
    args = parser.parse_args(argv)
    if not common.pg_available():
        print(f"PostgreSQL is not reachable at {common.pg_server_url()} (set {common.PG_ENV})", file=sys.stderr)
        return 2
    from bulk_load import BulkSpec, bulk_load

    print("# What-if preview (bench_admin_whatif.py)\n")
    print(f"- machine: {common.machine_info()}; clients: {args.clients}; gunicorn {args.workers} sync workers; "
          f"load average at start: {os.getloadavg()[0]:.2f}")
    with (bench_pages.reused(args.reuse) if args.reuse else common.fresh_database("postgresql", keep=args.keep)) \
            as uri:
        dsn = common.libpq_dsn(uri)
        if not args.reuse:
            load = bulk_load(dsn, BulkSpec(learners=args.learners, entries=args.entries), log=print)
            print(f"- bulk load: {load.total_seconds():.1f} s")
            with __import__("psycopg").connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
        add_admin(uri)
        timings, plan, counted = in_process(uri, args.repeats)
        print(f"\n## In-process `what_if()` ({counted:,} learners, {args.repeats} calls)\n")
        print(f"- p50 {common.percentile(timings, 50):.1f} ms, p95 {common.percentile(timings, 95):.1f} ms, "
              f"max {max(timings):.1f} ms\n\n```\n{plan}\n```")

        env = {"DATABASE_URL": uri, "SECRET_KEY": "benchmark-secret-key", "RATELIMIT_STORAGE_URI": "memory://",
               "THRIVE_LOGIN_RATE_LIMIT": "100000 per minute", "PYTHONDONTWRITEBYTECODE": "1"}
        logs = Path("/tmp")
        with bench_pages.gunicorn("wsgi:app", env=env, workers=args.workers, cwd=common.ROOT,
                                  log_path=logs / "bench_whatif_thrive.log") as thrive_server, \
                bench_pages.gunicorn("bench_pages:minimal_app", env={"PYTHONDONTWRITEBYTECODE": "1"},
                                     workers=args.workers, cwd=Path(__file__).resolve().parent,
                                     log_path=logs / "bench_whatif_minimal.log") as minimal_server:
            cookie, token = admin_session(thrive_server.port)
            app = common.bench_app(uri)
            with app.app_context():
                from thrive.services.admin.ladder import current_ladder

                tiers, levels = proposed_ladder(current_ladder())
            body = form_body(tiers, levels, token)
            minimal = bench_pages.drive(bench_pages.TARGETS[0],
                                        [bench_pages.Client(minimal_server.port, None) for _ in range(args.clients)],
                                        warmup=args.warmup, duration=args.duration,
                                        app_pids=minimal_server.worker_pids())
            what_if = drive_post(thrive_server.port, cookie, body, args.clients, warmup=args.warmup,
                                 duration=args.duration)
            what_if.worker_rss_mb = bench_pages.peak_rss_mb(thrive_server.worker_pids())
        print(f"\n## Latency under {args.clients} concurrent clients\n")
        common.print_table(
            ["target", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "p95 ≤ 500 ms",
             "worker peak RSS MiB", "load avg"],
            [(m.target.name, len(m.latencies_ms), m.errors, m.throughput, m.p(50), m.p(95), m.p(99),
              "yes" if m.p(95) <= TARGET_P95_MS else "NO", m.worker_rss_mb, m.load) for m in (minimal, what_if)])
        for m in (minimal, what_if):
            if m.error_samples:
                print(f"\n{m.target.name}: {m.errors} error(s), e.g. {m.error_samples[:2]}")
        if args.keep:
            print(f"\nkept: {uri}")
    return 1 if what_if.errors else 0


if __name__ == "__main__":
    sys.exit(main())
