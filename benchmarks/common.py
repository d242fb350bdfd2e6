"""Shared helpers for the benchmark scripts in ``benchmarks/`` (§15).

- :func:`fresh_database` creates a brand-new SQLite file or PostgreSQL
  database (``thrive_bench_<random>``), migrates it to ``heads``, seeds the
  default rules/tiers/levels, yields its URL and removes it afterwards.
- :func:`bench_app` builds the production-configured app on a URL.
- :func:`create_learners` adds learners through ``create_learner``.
- :func:`free_port`, :func:`percentile`, :func:`print_table`, :func:`machine_info`.

The scripts are run from the repository root (``make bench`` or
``.venv/bin/python benchmarks/<script>.py``); this module puts the root on
``sys.path`` so that ``import thrive`` works without installing.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Server holding the throw-away benchmark databases (any database on it is fine;
#: the scripts connect to its ``postgres`` database to CREATE/DROP their own).
PG_ENV = "THRIVE_BENCH_PG_URL"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_server_url() -> str:
    """The PostgreSQL server URL for benchmarks (``THRIVE_BENCH_PG_URL`` or the local default)."""
    return os.environ.get(PG_ENV) or DEFAULT_PG_URL


def pg_available() -> bool:
    """True when the benchmark PostgreSQL server accepts connections."""
    import psycopg

    try:
        with psycopg.connect(_libpq_url(pg_server_url(), "postgres"), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _libpq_url(url: str, database: str) -> str:
    """``url`` as a plain libpq URL (no ``+psycopg``) pointing at ``database``."""
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql", database=database)
    return u.render_as_string(hide_password=False)


def libpq_dsn(sqlalchemy_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq URL for ``psycopg.connect``."""
    from sqlalchemy.engine import make_url

    u = make_url(sqlalchemy_url)
    return _libpq_url(sqlalchemy_url, u.database)


def bench_config(uri: str, **overrides) -> dict:
    """App config for a benchmark: production defaults (not TESTING) on ``uri``.

    The API rate limit is raised so the limiter (still active) never rejects
    benchmark traffic.
    """
    config = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "benchmark-secret-key",
        "THRIVE_API_RATE_LIMIT": "100000000 per minute",
    }
    config.update(overrides)
    return config


def bench_app(uri: str, **overrides):
    """``create_app`` with :func:`bench_config` (all blueprints and award hooks loaded)."""
    from thrive import create_app

    return create_app(bench_config(uri, **overrides))


def _migrate_and_seed(uri: str) -> None:
    from flask_migrate import upgrade

    from thrive.extensions import db
    from thrive.services.points.registry import invalidate, seed_defaults

    app = bench_app(uri)
    with app.app_context():
        upgrade(revision="heads")
        seed_defaults()
        db.session.remove()
        db.engine.dispose()
    invalidate()


@contextmanager
def fresh_database(kind: str, *, keep: bool = False) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new, migrated, seeded database; remove it on exit.

    ``kind`` is ``"sqlite"`` (a file in a temporary directory) or
    ``"postgresql"`` (``thrive_bench_<random>`` on :func:`pg_server_url`,
    dropped ``WITH (FORCE)`` at the end). ``keep=True`` leaves it in place.
    """
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="thrive_bench_")
        uri = f"sqlite:///{tmp}/thrive.db"
        try:
            _migrate_and_seed(uri)
            yield uri
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    from thrive.config import normalize_database_url

    name = f"thrive_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = _libpq_url(pg_server_url(), "postgres")
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = normalize_database_url(_libpq_url(pg_server_url(), name))
    try:
        _migrate_and_seed(uri)
        yield uri
    finally:
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_learners(app, prefix: str, count: int, *, timezone: str = "UTC") -> list[tuple[int, str]]:
    """Create ``count`` learners ``<prefix><i>`` (external id ``ext-<prefix><i>``) through ``create_learner``.

    No password (no scrypt cost). Returns ``[(learner id, external id), …]``.
    """
    from thrive.extensions import db
    from thrive.services.accounts.learners import create_learner

    out = []
    with app.app_context():
        learners = []
        for i in range(count):
            ext = f"ext-{prefix}{i}"
            learners.append(create_learner(f"{prefix}{i}", f"Bench {prefix}{i}", timezone=timezone,
                                           external_id=ext, commit=False))
        db.session.commit()
        out = [(learner.id, learner.external_id) for learner in learners]
        db.session.remove()
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of ``values`` by linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> None:
    """Print rows as an aligned Markdown table (floats with 1 decimal)."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(headers))]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    if title:
        print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric)) + " |")
    sys.stdout.flush()


def machine_info() -> str:
    """One line describing the machine, Python and PostgreSQL/SQLite versions."""
    import sqlite3

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pg = "unavailable"
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            pg = out.stdout.strip().split()[-1]
        import psycopg

        with psycopg.connect(_libpq_url(pg_server_url(), "postgres"), connect_timeout=3) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 — informational only
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}; PostgreSQL {pg}")


def peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident set size (``VmHWM`` in ``/proc/<pid>/status``, MiB) of one process; NaN if unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (e.g. a gunicorn master's workers), from ``/proc`` (Linux)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def workers_peak_rss_mib(master_pid: int) -> list[float]:
    """Peak RSS (``VmHWM``, MiB) of every child of a gunicorn master, ascending (known ones only)."""
    return sorted(m for m in (peak_rss_mib(p) for p in child_pids(master_pid)) if m == m)
