"""Benchmark: ``POST /api/v1/events`` over HTTP vs a minimal Flask endpoint, on PostgreSQL (§13, §15).

A fresh PostgreSQL database is created, migrated and seeded (dropped at the
end), with L learners (``create_learner``, external ids ``ext-…``) and an API
key (``create_api_key``). Two servers run on it, one after the other, each
under gunicorn with 2 sync workers:

- **thrive** — the real app (``wsgi:app``): API-key check, rate limiter
  (limit raised so it never rejects; storage in Redis when it answers, as
  in production — the ``memory://`` storage starts a timer thread on
  requests and is per worker), marshmallow validation, learner lookup
  by external id, ``award()`` with every award hook, the full AwardResult as JSON.
- **baseline** — :func:`baseline_app`, a tiny Flask app in this file:
  ``POST /events`` parses the JSON, looks the learner up by external id and
  runs the raw minimum transaction of ``bench_award.RawAward`` (lock the
  state row ``FOR UPDATE``, count today's awards of the type, insert the
  ledger row, update the totals) on one psycopg connection per worker; no
  authentication, no validation beyond what the transaction needs.

The load generator is P processes × T threads (C = P × T clients), each
thread with its own keep-alive ``http.client`` connection (gunicorn's sync
worker answers ``Connection: close``; the client then reconnects), sending
``comment_posted`` events with unique event keys round-robin over the
learners for D seconds after a short warm-up. It reports requests/s, p50/p95
latency and errors for each server and the ratio; afterwards it checks that
every 2xx answer left exactly one ledger entry.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_api_http.py                    # 8 clients, 10 s each
    .venv/bin/python benchmarks/bench_api_http.py --duration 30 --clients 16 --rounds 2

PostgreSQL server: ``THRIVE_BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import common

ACTIVITY = "comment_posted"
TARGET_RATIO = 0.5
HERE = Path(__file__).resolve().parent


DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def redis_available(url: str) -> bool:
    """True when the Redis server at ``url`` answers PING."""
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


# ------------------------------------------------------------ baseline app ---

def baseline_app():
    """The minimal Flask endpoint (``POST /events``) doing the raw transaction (gunicorn factory).

    Reads ``BENCH_DATABASE_URL`` (SQLAlchemy-style PostgreSQL URL). One
    psycopg connection per worker process, opened on first use (after fork).
    """
    from bench_award import RawAward
    from flask import Flask, jsonify, request

    uri = os.environ["BENCH_DATABASE_URL"]
    rule = json.loads(os.environ["BENCH_RULE"])
    app = Flask("thrive_bench_baseline")
    local = threading.local()

    def raw() -> RawAward:
        if getattr(local, "raw", None) is None:
            local.raw = RawAward(uri, rule)
        return local.raw

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.post("/events")
    def events():
        data = request.get_json(force=True)
        try:
            points, capped = raw().award(None, data["event_key"], datetime.now(UTC),
                                         external_id=data["user"])
        except LookupError:
            return jsonify(error={"code": "unknown_user", "message": "no such user"}), 404
        return jsonify(points_awarded=points, capped=capped, event_key=data["event_key"]), 201

    return app


# ------------------------------------------------------------------ servers ---

class Server:
    """A gunicorn process serving ``target`` on a free port; logs to a temp file."""

    def __init__(self, target: str, env: dict, workers: int, chdir: Path, health_path: str):
        self.port = common.free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 — kept open for the server's life, closed in stop()
            prefix="thrive_bench_gunicorn_", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
               "--chdir", str(chdir), "--log-level", "warning", "--timeout", "60", target]
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)
        self.health_path = health_path

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.health_path)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become ready:\n{self.log_tail()}")

    def worker_cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the gunicorn workers (children of the master)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # ppid
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / tick

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        Path(self.log.name).unlink(missing_ok=True)


# ------------------------------------------------------------------- client ---

def _client_process(port: int, path: str, headers: dict, users: list[str], tag: str, threads: int,
                    start_at: float, duration: float) -> dict:
    """One load-generator process: ``threads`` keep-alive clients until ``start_at + duration``."""
    out = {"latencies": [], "ok": 0, "errors": 0, "statuses": {}}
    lock = threading.Lock()
    end_at = start_at + duration

    def worker(n: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat, ok, err, statuses = [], 0, 0, {}
        i = 0
        while time.time() < start_at:
            time.sleep(0.001)
        while True:
            user = users[(n * 7919 + i) % len(users)]
            body = json.dumps({"user": user, "activity_type": ACTIVITY, "event_key": f"{tag}:{n}:{i}"})
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = "exception"
            t1 = time.perf_counter()
            if time.time() > end_at:
                break
            lat.append(t1 - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if isinstance(status, int) and 200 <= status < 300:
                ok += 1
            else:
                err += 1
        conn.close()
        with lock:
            out["latencies"].extend(lat)
            out["ok"] += ok
            out["errors"] += err
            for k, v in statuses.items():
                out["statuses"][str(k)] = out["statuses"].get(str(k), 0) + v

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def load(port: int, path: str, headers: dict, users: list[str], tag: str, *, processes: int, threads: int,
         duration: float) -> dict:
    """Run the load generator; return requests/s, latency percentiles (ms), ok/error counts."""
    start_at = time.time() + 1.0
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = [pool.submit(_client_process, port, path, headers, users, f"{tag}:p{p}", threads, start_at,
                               duration) for p in range(processes)]
        parts = [f.result() for f in futures]
    latencies = [x for p in parts for x in p["latencies"]]
    ok = sum(p["ok"] for p in parts)
    errors = sum(p["errors"] for p in parts)
    statuses: dict[str, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "requests": ok + errors, "ok": ok, "errors": errors, "statuses": statuses,
        "rps": ok / duration,
        "p50_ms": 1000 * common.percentile(latencies, 50), "p95_ms": 1000 * common.percentile(latencies, 95),
    }


def warm_up(port: int, path: str, headers: dict, users: list[str], tag: str, n: int = 60) -> None:
    """Sequential requests so both workers have imported, connected and cached."""
    for i in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"user": users[i % len(users)], "activity_type": ACTIVITY, "event_key": f"{tag}:{i}"})
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError(f"warm-up request to {path} answered {resp.status}")


def count_entries(app, prefix: str) -> int:
    """Ledger entries whose event key starts with ``prefix``."""
    from sqlalchemy import func, select

    from thrive.extensions import db
    from thrive.models import LedgerEntry

    with app.app_context():
        n = db.session.scalar(select(func.count()).where(LedgerEntry.event_key.startswith(prefix)))
        db.session.remove()
    return n


# --------------------------------------------------------------------- main ---

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per server (default 10)")
    p.add_argument("--processes", type=int, default=2, help="load-generator processes (default 2)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients in all (default 8)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    p.add_argument("--learners", type=int, default=200, help="learners the events go to (default 200)")
    p.add_argument("--rounds", type=int, default=1, help="rounds; each runs both servers, order alternating")
    p.add_argument("--ratelimit-storage", default=None,
                   help="Flask-Limiter storage of the Thrive server (default: redis://127.0.0.1:6379/15 when "
                        "Redis answers — shared by both workers, as in production — else memory://)")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    threads = max(1, args.clients // args.processes)
    clients = threads * args.processes
    storage = args.ratelimit_storage or (DEFAULT_REDIS if redis_available(DEFAULT_REDIS) else "memory://")

    print(f"# POST /api/v1/events vs minimal Flask endpoint — PostgreSQL, gunicorn {args.workers} sync workers, "
          f"{clients} keep-alive clients ({args.processes} processes × {threads} threads), "
          f"{args.duration:g} s × {args.rounds} round(s); rate-limit storage {storage}")
    print(f"machine: {common.machine_info()}")
    if not common.pg_available():
        print(f"(skipping: PostgreSQL at {common.pg_server_url()} is not reachable)")
        return 0

    from bench_award import read_rule

    from thrive.extensions import db
    from thrive.services.accounts.api_keys import create_api_key

    results = {"thrive": [], "baseline": []}
    with common.fresh_database("postgresql") as uri:
        app = common.bench_app(uri)
        users = [ext for _, ext in common.create_learners(app, "http", args.learners)]
        with app.app_context():
            _row, api_key = create_api_key("benchmark")
            db.session.remove()
        rule = read_rule(app)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
        env_common = {"PYTHONPATH": os.pathsep.join([str(common.ROOT), str(HERE)])}
        servers = {
            "thrive": dict(target="wsgi:app", chdir=common.ROOT, health_path="/api/v1/openapi.json",
                        path="/api/v1/events",
                           env={**env_common, "DATABASE_URL": uri, "SECRET_KEY": "benchmark-secret-key",
                                "THRIVE_API_RATE_LIMIT": "100000000 per minute",
                                "RATELIMIT_STORAGE_URI": storage}),
            "baseline": dict(target="bench_api_http:baseline_app()", chdir=HERE, health_path="/health",
                             path="/events",
                             env={**env_common, "BENCH_DATABASE_URL": uri, "BENCH_RULE": json.dumps(rule)}),
        }
        run_id = uuid.uuid4().hex[:8]
        for rnd in range(args.rounds):
            order = ("baseline", "thrive") if rnd % 2 == 0 else ("thrive", "baseline")
            for name in order:
                cfg = servers[name]
                server = Server(cfg["target"], cfg["env"], args.workers, cfg["chdir"], cfg["health_path"])
                try:
                    server.wait_ready()
                    warm_up(server.port, cfg["path"], headers, users, f"warm:{name}:{run_id}:{rnd}")
                    tag = f"http:{name}:{run_id}:{rnd}"
                    cpu0 = server.worker_cpu_seconds()
                    res = load(server.port, cfg["path"], headers, users, tag, processes=args.processes,
                               threads=threads, duration=args.duration)
                    res["server_cpu_s"] = server.worker_cpu_seconds() - cpu0
                    res["worker_rss_mib"] = max(common.workers_peak_rss_mib(server.proc.pid), default=float("nan"))
                except Exception:
                    print(server.log_tail(), file=sys.stderr)
                    raise
                finally:
                    server.stop()
                written = count_entries(app, tag + ":")
                # a request cut off by the end of the window may have been written without being counted
                if not res["ok"] <= written <= res["ok"] + clients:
                    raise AssertionError(f"{name}: {res['ok']} successful answers but {written} ledger entries")
                res["ledger_entries"] = written
                results[name].append(res)
        with app.app_context():
            db.engine.dispose()

    rows = []
    summary = {}
    for name in ("thrive", "baseline"):
        rs = results[name]
        ok = sum(r["ok"] for r in rs)
        summary[name] = {
            "rps": ok / (args.duration * len(rs)),
            "p50_ms": sum(r["p50_ms"] for r in rs) / len(rs),
            "p95_ms": sum(r["p95_ms"] for r in rs) / len(rs),
            "errors": sum(r["errors"] for r in rs),
            "server_cpu_ms": 1000 * sum(r["server_cpu_s"] for r in rs) / max(1, sum(r["requests"] for r in rs)),
            "requests": sum(r["requests"] for r in rs),
            "worker_rss_mib": max(r["worker_rss_mib"] for r in rs),
            "statuses": [r["statuses"] for r in rs],
        }
    ratio = summary["thrive"]["rps"] / summary["baseline"]["rps"]
    for name, s in summary.items():
        rows.append([name, s["requests"], s["rps"], s["p50_ms"], s["p95_ms"], s["errors"],
                     f"{s['server_cpu_ms']:.2f}", f"{s['worker_rss_mib']:.0f}",
                     f"{ratio:.0%}" if name == "thrive" else ""])
    common.print_table(["server", "requests", "requests/s", "p50 ms", "p95 ms", "errors", "worker CPU ms/req",
                        "worker peak RSS MiB", "thrive/baseline"], rows,
                       title="Results (every 2xx answer checked against the ledger)")
    print("worker CPU = CPU time of the gunicorn workers per request (not the database server's, not the "
          f"client's); worker peak RSS = largest VmHWM of a gunicorn worker over the rounds;\n"
          f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("status codes: " + "; ".join(f"{n}: {s['statuses']}" for n, s in summary.items()))
    print(f"target: thrive ≥ {TARGET_RATIO:.0%} of baseline → {'MET' if ratio >= TARGET_RATIO else 'NOT MET'} "
          f"({ratio:.0%})")
    if args.json:
        args.json.write_text(json.dumps({"machine": common.machine_info(), "clients": clients, "args": vars(args)
                                         | {"json": str(args.json)}, "summary": summary, "ratio": ratio,
                                         "rounds": results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
