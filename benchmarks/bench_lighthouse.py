"""Lighthouse performance (mobile) of home, community and journey beside a minimal page (issue 11).

What it does, in one run:

1. creates a fresh SQLite database (a temporary file, removed at the end), migrates and
   seeds it, and builds a demo community in it (``build_demo``, ``--learners`` /
   ``--weeks``; the ``demo`` learner signs in);
2. serves Thrive with gunicorn (``wsgi:app``, 2 sync workers, the development config
   ``make run`` uses) and, beside it, a minimal Flask page served the same way
   (:data:`minimal_app`: one static HTML page with a stylesheet-free body — the best a
   page can score on this machine at this moment);
3. runs Lighthouse's performance category (npm ``lighthouse``, pinned; Debian's Chromium;
   the default mobile form factor: emulated Moto G Power, simulated slow 4G, 4× CPU
   slowdown) ``--rounds`` times on each page — the minimal page first, then ``/``,
   ``/community`` and ``/journey`` with the demo learner's session cookie, after one
   warm-up visit of each (so a returning visit is measured, not the first visit's
   celebration modal);
4. prints, per page, the median score (0–100) and the median FCP, LCP, TBT (ms) and CLS
   in a table, against the target ≥ 95, with the machine's load average before and after.

The score depends on the machine's load (Lighthouse's simulated throttling multiplies
the CPU time it observes), so the minimal page's score in the same run says how much of
a shortfall is the machine's. Nothing is asserted.

Run from the repository root::

    .venv/bin/python benchmarks/bench_lighthouse.py
    .venv/bin/python benchmarks/bench_lighthouse.py --rounds 3 --learners 300 --weeks 6   # the `make run` demo
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import timedelta
from pathlib import Path

import common  # noqa: I001 — puts the repository root on sys.path
from bench_pages import gunicorn
from flask import Flask

from tests.browser.lighthouse import (
    LighthouseError,
    category_scores,
    key_metrics,
    missing_tools,
    run_lighthouse,
    session_cookie,
)

TARGET = 95
PAGES = ["/", "/community", "/journey"]

# ---- the minimal page served beside Thrive (gunicorn bench_lighthouse:minimal_app) ---------------------------------

minimal_app = Flask("thrive_minimal_lighthouse")

_MINIMAL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="The smallest page: one HTML document, no scripts, no stylesheets.">
<title>Minimal</title></head>
<body><main><h1>Hello, learner</h1><p>The smallest page: one HTML document, no scripts, no stylesheets.</p>
</main></body></html>"""


@minimal_app.route("/")
def minimal_page():
    return _MINIMAL_PAGE


def load_average() -> str:
    """The 1, 5 and 15-minute load averages (as `uptime` prints them)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def build_demo_database(uri: str, learners: int, weeks: int) -> None:
    """Build the demo community (as ``flask thrive demo``) in the seeded database at ``uri``."""
    from thrive.extensions import db
    from thrive.services.ingest.demo import build_demo
    from thrive.timeutil import utcnow

    app = common.bench_app(uri)
    with app.app_context():
        build_demo(learners=learners, weeks=weeks, now=utcnow() - timedelta(minutes=5))
        db.session.remove()
        db.engine.dispose()


def warm_up(base: str, cookie: str) -> None:
    """Visit each page once with the session: a returning visit is measured (the first visit of the
    day shows the demo learner's pending celebrations — a modal with confetti — which is not a page's
    steady cost), and the servers' caches are warm."""
    import requests

    for path in PAGES:
        requests.get(base + path, headers={"Cookie": cookie}, timeout=60).raise_for_status()


def measure(url: str, rounds: int, cookie: str | None, save_as: Path | None = None) -> dict[str, float | None]:
    """Median performance score (0–100) and metrics of ``rounds`` Lighthouse runs on ``url``.

    ``save_as``: when given, each run's full report (Lighthouse JSON) is written to
    ``<save_as>-<round>.json`` (read its audits — LCP element, TBT, bootup time — to see what costs).
    """
    scores, metrics = [], []
    for round_no in range(rounds):
        report = run_lighthouse(url, ["performance"], cookie=cookie)
        if save_as is not None:
            save_as.parent.mkdir(parents=True, exist_ok=True)
            Path(f"{save_as}-{round_no + 1}.json").write_text(json.dumps(report), encoding="utf-8")
        score = category_scores(report)["performance"]
        scores.append(score * 100 if score is not None else float("nan"))
        metrics.append(key_metrics(report))

    def median(key):
        values = [m[key] for m in metrics if m[key] is not None]
        return statistics.median(values) if values else None

    return {"score": statistics.median(scores), "runs": ", ".join(f"{s:.0f}" for s in scores),
            **{key: median(key) for key in ("FCP", "LCP", "TBT", "CLS")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=60, help="synthetic demo learners (make run: 300)")
    parser.add_argument("--weeks", type=int, default=3, help="weeks of demo activity (make run: 6)")
    parser.add_argument("--rounds", type=int, default=1, help="Lighthouse runs per page (the median is shown)")
    parser.add_argument("--save-reports", type=Path, metavar="DIR",
                        help="write every run's Lighthouse JSON report into DIR (e.g. /tmp/lh)")
    args = parser.parse_args(argv)
    problem = missing_tools()
    if problem:
        print(f"bench_lighthouse: {problem}", file=sys.stderr)
        return 2
    from thrive.services.ingest.demo import DEMO_PASSWORD, DEMO_USERNAME

    print("# Lighthouse performance (mobile) — home, community, journey beside a minimal page\n")
    print(f"- machine: {common.machine_info()}")
    print(f"- demo: {args.learners} learners, {args.weeks} weeks; {args.rounds} run(s) per page (median shown)")
    with common.fresh_database("sqlite") as uri:
        build_demo_database(uri, args.learners, args.weeks)
        env = {"DATABASE_URL": uri, "SECRET_KEY": "benchmark-secret-key", "RATELIMIT_STORAGE_URI": "memory://",
               "THRIVE_LOGIN_RATE_LIMIT": "100000 per minute", "PYTHONDONTWRITEBYTECODE": "1"}
        logs = Path(os.environ.get("TMPDIR", "/tmp"))
        rows = []
        before = load_average()
        with gunicorn("wsgi:app", env=env, workers=2, cwd=common.ROOT, log_path=logs / "bench_lighthouse_thrive.log") \
                as thrive_server, \
                gunicorn("bench_lighthouse:minimal_app", env={"PYTHONDONTWRITEBYTECODE": "1"}, workers=2,
                         cwd=Path(__file__).resolve().parent, log_path=logs / "bench_lighthouse_minimal.log") \
                as minimal_server:
            base = f"http://127.0.0.1:{thrive_server.port}"
            cookie = session_cookie(base, DEMO_USERNAME, DEMO_PASSWORD)
            warm_up(base, cookie)
            targets = [("minimal page", f"http://127.0.0.1:{minimal_server.port}/", None)]
            targets += [(path, base + path, cookie) for path in PAGES]
            try:
                for name, url, page_cookie in targets:
                    save_as = None
                    if args.save_reports:
                        slug = name.strip("/").replace("/", "-").replace(" ", "-") or "home"
                        save_as = args.save_reports / slug
                    m = measure(url, args.rounds, page_cookie, save_as)
                    rows.append((name, m["score"], m["runs"], m["FCP"], m["LCP"], m["TBT"],
                                 f"{m['CLS']:.3f}" if m["CLS"] is not None else "—",
                                 "yes" if m["score"] >= TARGET else "no"))
            except LighthouseError as exc:
                print(f"bench_lighthouse: {exc}", file=sys.stderr)
                return 1
        after = load_average()
    print(f"- load average (1, 5, 15 min): {before} before, {after} after "
          f"({os.cpu_count()} cores; the score assumes an idle machine)")
    common.print_table(["page", "score", "runs", "FCP ms", "LCP ms", "TBT ms", "CLS", f"≥ {TARGET}"], rows,
                       title="Lighthouse performance, mobile (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
