"""Load test (issue 12): learners browsing with HTMX polls + the API at a fixed event rate, then verify.

Against gunicorn (``wsgi:app``, 2 workers by default) and a fresh PostgreSQL database:
``--learners`` simulated learners (Locust ``Learner`` users: sign in, home and community pages,
the HTMX panel polls) and ``--events-per-s`` ``POST /api/v1/events`` spread over 10 API users,
for ``--duration`` seconds. Prints per endpoint: requests, failures, requests/s, p50/p95/p99 (ms);
the gunicorn workers' peak RSS (``VmHWM``); then runs ``verify`` (drift must be empty) and checks
that the ledger's sum equals the learners' totals. Exit status 1 on errors, drift or a mismatch.

Locust runs from its own virtualenv (see ``benchmarks/load/requirements.txt``)::

    python3 -m venv .venv-load && .venv-load/bin/pip install -r benchmarks/load/requirements.txt
    .venv/bin/python benchmarks/bench_load.py                       # 200 learners, 100 events/s, 5 min
    .venv/bin/python benchmarks/bench_load.py --duration 30         # a short proof run
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import common  # noqa: E402  (puts the repo root on sys.path)
from bench_api_http import Server

HERE = Path(__file__).resolve().parent
PASSWORD = "load-test-password-1"


def _prepare(uri: str, learners: int) -> tuple[list[str], list[str], str]:
    from thrive.extensions import db
    from thrive.services.accounts.api_keys import create_api_key
    from thrive.services.accounts.learners import create_learner

    app = common.bench_app(uri, THRIVE_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    names, externals = [], []
    with app.app_context():
        for i in range(learners):
            create_learner(f"load{i}", f"Load {i}", password=PASSWORD, external_id=f"ext-load{i}", commit=False)
            names.append(f"load{i}")
            externals.append(f"ext-load{i}")
        db.session.commit()
        _row, key = create_api_key("load test")
        db.session.remove()
    return names, externals, key


def _verify(uri: str) -> tuple[int, int, int]:
    """(number of drifted learners, ledger sum, sum of learners' totals)."""
    from sqlalchemy import func, select

    from thrive.extensions import db
    from thrive.models import LearnerState, LedgerEntry
    from thrive.services.points.verify import verify

    app = common.bench_app(uri)
    with app.app_context():
        drift = verify()
        ledger = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0)))
        totals = db.session.scalar(select(func.coalesce(func.sum(LearnerState.total_points), 0)))
        db.session.remove()
    return len(drift), int(ledger), int(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--events-per-s", type=float, default=100.0)
    parser.add_argument("--duration", type=int, default=300, help="seconds (default 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--locust", default=str(common.ROOT / ".venv-load" / "bin" / "locust"))
    args = parser.parse_args()
    print("# Load test\n\n" + common.machine_info())
    with common.fresh_database("postgresql") as uri:
        names, externals, key = _prepare(uri, args.learners)
        metrics_dir = tempfile.mkdtemp(prefix="thrive_metrics_")
        env = {"PYTHONPATH": str(common.ROOT), "DATABASE_URL": uri, "SECRET_KEY": "benchmark-secret-key",
               "THRIVE_API_RATE_LIMIT": "100000000 per minute", "THRIVE_LOGIN_RATE_LIMIT": "100000 per minute",
               "RATELIMIT_STORAGE_URI": os.environ.get("THRIVE_BENCH_REDIS", "redis://127.0.0.1:6379"),
               "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "THRIVE_SECURE_COOKIES": "0"}  # plain HTTP here
        server = Server("wsgi:app", env, args.workers, common.ROOT, "/healthz")
        try:
            server.wait_ready()
            out = Path(tempfile.mkdtemp(prefix="thrive_locust_")) / "run"
            api_users = 10
            cmd = [args.locust, "-f", str(HERE / "load" / "locustfile.py"), "--headless",
                   "-u", str(args.learners + api_users), "-r", "20", "-t", f"{args.duration}s",
                   "--host", f"http://127.0.0.1:{server.port}", "--csv", str(out), "--only-summary"]
            locust_env = {**os.environ, "THRIVE_LOAD_USERS": ",".join(names), "THRIVE_LOAD_PASSWORD": PASSWORD,
                          "THRIVE_LOAD_EXTERNAL_IDS": ",".join(externals), "THRIVE_LOAD_API_KEY": key,
                          "THRIVE_LOAD_API_USERS": str(api_users),
                          "THRIVE_LOAD_EVENTS_PER_S": str(args.events_per_s)}
            subprocess.run(cmd, env=locust_env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rss = common.workers_peak_rss_mib(server.proc.pid)
        finally:
            server.stop()
        with open(f"{out}_stats.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        print(f"\n{args.learners} learners + API at {args.events_per_s:g} events/s for {args.duration} s, "
              f"{args.workers} gunicorn workers\n")
        table = [[r["Name"], r["Request Count"], r["Failure Count"], f"{float(r['Requests/s']):.1f}",
                  r["50%"], r["95%"], r["99%"]] for r in rows]
        common.print_table(["endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"], table)
        errors = sum(int(r["Failure Count"]) for r in rows if r["Name"] == "Aggregated")
        print(f"\ngunicorn workers' peak RSS (MB): {', '.join(f'{m:.0f}' for m in rss)}")
        drift, ledger, totals = _verify(uri)
        print(f"verify: {drift} learners with drift; ledger sum {ledger:,} vs learners' totals {totals:,}")
        print(f"load average after the run: {os.getloadavg()}")
        return 0 if errors == 0 and drift == 0 and ledger == totals else 1


if __name__ == "__main__":
    sys.exit(main())
