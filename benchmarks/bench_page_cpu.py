"""Learner pages' CPU per request in-process, this checkout beside a baseline revision, interleaved (issue 12).

This machine's speed drifts by ±15 % or more within minutes, so two page benchmarks run one after the other
cannot show a 5 % change. This script runs both versions at once and alternates between them in short
slices, so drift hits both alike:

1. checks the baseline revision out into a temporary git worktree (``--baseline REV``; translations
   compiled there), unless ``--baseline`` is omitted (then this checkout alone is measured);
2. starts one worker process per checkout: each builds the production-configured app of *its* checkout on
   the ``--reuse`` database (a ``bench_pages.py --keep`` database: 100k learners / 2M entries) and signs in
   ``--clients`` recently active learners through the login form (Flask's test client, no HTTP server);
3. for each path, after a warm-up, asks the workers in turn (order alternating) to serve ``--per-slice``
   requests round-robin over their learners, ``--slices`` times, and records the worker's process CPU
   (``time.process_time``: Python and the driver) and its database backends' CPU per request;
4. prints, per path, the median and the minimum CPU ms per request of each side and the change: the
   worker's own CPU, its PostgreSQL backends' CPU (``/proc``, same machine) and both together.

The app figure includes the test client's own work (~0.3 ms a request), which gunicorn's HTTP handling
replaces in ``bench_pages.py``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_page_cpu.py --reuse postgresql://postgres@127.0.0.1:5432/thrive_bench_x \\
        --baseline 286ad4d
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (puts this checkout's root on sys.path)

DEFAULT_PATHS = "/,/community,HX:/community/feed,/journey"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# ---- worker (one per checkout) ---------------------------------------------------------------------------------------

def worker(root: str, uri: str, clients: int) -> int:
    """Serve ``"<n> <path>"`` lines from stdin with the app of the checkout at ``root``; answer CPU ms/request."""
    sys.path.insert(0, root)  # before this checkout's root: ``thrive`` is the measured checkout's
    import thrive  # noqa: I001  (after the path change)
    from bench_pages import pick_learners
    from bulk_load import BENCH_PASSWORD

    if not Path(thrive.__file__).resolve().is_relative_to(Path(root).resolve()):
        raise RuntimeError(f"imported {thrive.__file__}, not the checkout at {root}")
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    backends: set[int] = set()  # PostgreSQL backend pids of this worker's connections

    @event.listens_for(Engine, "connect")
    def _note_backend(dbapi_connection, _record):
        pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
        if pid:
            backends.add(pid)

    app = thrive.create_app(common.bench_config(uri, THRIVE_LOGIN_RATE_LIMIT="100000 per minute"))
    signed_in = []
    for username in pick_learners(common.libpq_dsn(uri), clients):
        client = app.test_client()
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                               "csrf_token": token})
        if response.status_code != 302:
            raise RuntimeError(f"sign-in of {username} failed: HTTP {response.status_code}")
        signed_in.append(client)
    print(f"ready {thrive.__file__}", flush=True)
    for line in sys.stdin:
        count, path = line.split()
        headers = {"HX-Request": "true"} if path.startswith("HX:") else {}
        path = path.removeprefix("HX:")
        started, db_started = time.process_time(), backend_cpu(backends)
        for n in range(int(count)):
            response = signed_in[n % len(signed_in)].get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
        app_ms = (time.process_time() - started) * 1000 / int(count)
        print(f"{app_ms:.4f} {(backend_cpu(backends) - db_started) * 1000 / int(count):.4f}", flush=True)
    return 0


def backend_cpu(pids: set[int]) -> float:
    """User + system CPU seconds used so far by the PostgreSQL backends ``pids`` (``/proc``; gone ones skipped)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---- driver ----------------------------------------------------------------------------------------------------------

@contextmanager
def baseline_checkout(revision: str):
    """A temporary detached worktree of ``revision`` with its translations compiled; removed on exit."""
    tmp = Path(tempfile.mkdtemp(prefix="thrive_baseline_"))
    target = tmp / "checkout"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(target), revision], cwd=common.ROOT,
                   check=True)
    try:
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run([str(pybabel), "-q", "compile", "-d", "thrive/translations"], cwd=target, check=True)
        yield target
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(target)], cwd=common.ROOT, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


class Worker:
    """A worker process serving one checkout."""

    def __init__(self, label: str, root: Path, uri: str, clients: int):
        self.label = label
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(root), "--reuse", uri, "--clients", str(clients)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"{label} worker did not start (exit {self.proc.poll()})")
        self.module = line.split(maxsplit=1)[1].strip()

    def run(self, count: int, path: str) -> tuple[float, float]:
        self.proc.stdin.write(f"{count} {path}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"{self.label} worker stopped (exit {self.proc.wait()})")
        app_ms, db_ms = answer.split()
        return float(app_ms), float(db_ms)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def revision_of(root: Path) -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" + uncommitted changes" if dirty else "")


def measure(workers: list[Worker], paths: list[str], slices: int, per_slice: int) -> dict[str, dict[str, list]]:
    """{path: {label: [(app, database) CPU ms/request per slice]}}, the workers' order alternating slice by slice."""
    results: dict[str, dict[str, list]] = {}
    for path in paths:
        for w in workers:
            w.run(per_slice, path)  # warm-up: caches, prepared statements
        results[path] = {w.label: [] for w in workers}
        for i in range(slices):
            for w in (workers if i % 2 == 0 else list(reversed(workers))):
                results[path][w.label].append(w.run(per_slice, path))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", required=True, metavar="URL", help="a bench_pages.py --keep database")
    parser.add_argument("--baseline", metavar="REV", help="git revision to measure beside this checkout")
    parser.add_argument("--paths", default=DEFAULT_PATHS, help=f"comma-separated (HX: prefix = HTMX request); "
                                                               f"default {DEFAULT_PATHS}")
    parser.add_argument("--slices", type=int, default=14, help="measured slices per side and path")
    parser.add_argument("--per-slice", type=int, default=40, help="requests per slice")
    parser.add_argument("--clients", type=int, default=4, help="signed-in learners per worker (round robin)")
    parser.add_argument("--worker", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # the driver passes the normalised URL; nothing of Thrive is imported before the path change
        return worker(args.worker, args.reuse, args.clients)
    from thrive.config import normalize_database_url

    uri = normalize_database_url(args.reuse)

    paths = [p for p in args.paths.split(",") if p]
    print("# Learner pages' CPU per request, in-process and interleaved (bench_page_cpu.py)\n")
    print(f"- run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {common.machine_info()}")
    print(f"- database: {uri.rsplit('/', 1)[-1]}; {args.slices} slices × {args.per_slice} requests per side "
          f"and path, {args.clients} learners per side\n")
    with (baseline_checkout(args.baseline) if args.baseline else _nothing()) as base_root:
        workers = [Worker("this checkout", common.ROOT, uri, args.clients)]
        if base_root is not None:
            workers.insert(0, Worker(f"baseline {args.baseline}", base_root, uri, args.clients))
        for w in workers:
            print(f"- {w.label}: {revision_of(Path(w.module).parent.parent)} ({w.module})")
        print()
        try:
            results = measure(workers, paths, args.slices, args.per_slice)
        finally:
            for w in workers:
                w.close()
    for title, pick in (("App CPU (the worker process)", lambda v: v[0]),
                        ("Database CPU (the worker's PostgreSQL backends)", lambda v: v[1]),
                        ("App + database CPU", lambda v: v[0] + v[1])):
        print(f"\n### {title}, ms per request\n")
        header = ["path"] + [f"{w.label} median / min" for w in workers]
        if len(workers) == 2:
            header.append("change (median)")
        rows = []
        for path, by_side in results.items():
            cells = [f"`{path}`"]
            medians = []
            for w in workers:
                values = [pick(v) for v in by_side[w.label]]
                medians.append(statistics.median(values))
                cells.append(f"{medians[-1]:.2f} / {min(values):.2f}")
            if len(medians) == 2:
                cells.append(f"{(medians[1] / medians[0] - 1) * 100:+.1f} %" if medians[0] else "—")
            rows.append(cells)
        common.print_table(header, rows)
    print(f"\nload average after the run: {os.getloadavg()[0]:.2f} (2 cores; both sides share it alike)")
    return 0


@contextmanager
def _nothing():
    yield None


if __name__ == "__main__":
    sys.exit(main())
