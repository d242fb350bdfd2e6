"""Database plumbing shared by services: SQLite tuning and write transactions (§15).

SQLite runs in WAL mode with a busy timeout so that the web workers, the
scheduler process and CLI imports can share one file. Writes that must be
exact under concurrency (``award()``, job runs) open their transaction with
``BEGIN IMMEDIATE`` through :func:`write_transaction`, so the write lock is
taken up front and waits (busy timeout) instead of failing with "database is
locked" when a deferred read transaction tries to upgrade. On PostgreSQL the
same helper is a plain transaction; callers lock rows with ``FOR UPDATE``.

Long batches (imports, the streak job, admin bulk awards, API batches,
learner creation) write through :class:`WriteSlicer`: a series of short
write transactions. SQLite has one write lock for the whole file; a
500-event batch held it for 4.5–5.5 s on the shared 2-core machine, and
every web write (sign-up, settings, a cheer) waited behind it. On SQLite a
slice therefore starts at :data:`SQLITE_FIRST_SLICE` items and is resized
after each commit so that one transaction lasts about
:data:`SQLITE_SLICE_SECONDS`; between slices the writer steps aside for
:data:`SQLITE_PAUSE_SECONDS`, longer than SQLite's busy handler sleeps
between two attempts (at most 100 ms), so a waiting web request takes the
lock instead of the batch taking it straight back. A web write then waits
about one slice per write transaction it opens, under the ~2 s allowed
(``tests/web/test_writes_during_import.py``). On PostgreSQL writers lock
rows, not the database, so a slice is the caller's whole batch, with no pause.
"""
from __future__ import annotations

import contextvars
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db
from .services.errors import ValidationError

SQLITE_BUSY_TIMEOUT_MS = 60_000
#: SQLite: the time one slice should hold the write lock (seconds).
SQLITE_SLICE_SECONDS = 0.5
#: SQLite: events in the first slice (≈ 0.2 s at the measured ~10 ms per event), and the smallest slice.
SQLITE_FIRST_SLICE = 20
SQLITE_MIN_SLICE = 5
#: SQLite: pause between two slices (seconds) so that writers waiting on the busy handler get the lock: its
#: sleeps grow to 100 ms (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms), so 100 ms + 20 ms of margin
#: (it was 0.15 s). Work needing no transaction (``prepare`` of :meth:`WriteSlicer.run`) runs inside it.
SQLITE_PAUSE_SECONDS = 0.12

T = TypeVar("T")
R = TypeVar("R")

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("thrive_immediate", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_conn, _record) -> None:
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    # We emit BEGIN ourselves (see _sqlite_on_begin), so pysqlite must not.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def read_rows(statement, params: dict | None = None):
    """Run a read ``statement`` of columns (not ORM entities) in the session's transaction; its ``Result``.

    ``db.session.execute`` gives the same rows but does the ORM's per-statement work first (~0.14 ms a
    statement on a page of five or six, issue 12); this goes to the session's connection directly. As
    ``session.execute`` would (autoflush), pending ORM changes are flushed first, so the statement sees them.
    ``params``: the bound parameters by name.
    """
    session = db.session()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection().execute(statement, params or {})


def in_write_transaction() -> bool:
    """True inside a :func:`write_transaction` block (of this thread / context)."""
    return _immediate.get()


def is_sqlite() -> bool:
    """True when the bound database is SQLite."""
    return db.engine.dialect.name == "sqlite"


def dialect_insert(session: Session):
    """The ``insert`` construct of ``session``'s database (SQLite or PostgreSQL).

    Both dialects' constructs offer ``on_conflict_do_nothing(index_elements=…)``,
    which the plain SQLAlchemy ``insert`` does not; set-based inserts that must
    skip existing rows (goals, notifications) build their statement with it.
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@contextmanager
def write_transaction(session: Session | None = None) -> Iterator[Session]:
    """Run the block in a fresh write transaction and commit it.

    Any transaction already open on the session is committed first (services
    own their transactions, §3), then a new one is begun — ``BEGIN IMMEDIATE``
    on SQLite. The block's work is committed on success and rolled back on any
    exception, which is re-raised: nothing is half-written.
    """
    session = session or db.session()
    if session.in_transaction():
        session.commit()
    token = _immediate.set(True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _immediate.reset(token)


class WriteSlicer:
    """Run a long batch as short write transactions (see the module docstring).

    ``max_size`` bounds the items per transaction. On SQLite (decided from
    the bound engine unless ``sqlite`` is given) slices are sized to last
    about ``slice_seconds`` each and separated by ``pause_seconds``; on
    PostgreSQL every slice is ``max_size`` items and there is no pause. One
    slicer may serve several calls of :meth:`run` (the pause also separates
    the last slice of one call from the first of the next).
    """

    def __init__(self, max_size: int, *, sqlite: bool | None = None, slice_seconds: float | None = None,
                 pause_seconds: float | None = None):
        if max_size < 1:
            raise ValidationError("batch size must be at least 1")
        self.max_size = max_size
        self.sqlite = is_sqlite() if sqlite is None else sqlite
        self.slice_seconds = SQLITE_SLICE_SECONDS if slice_seconds is None else slice_seconds
        pause = SQLITE_PAUSE_SECONDS if pause_seconds is None else pause_seconds
        self.pause_seconds = pause if self.sqlite else 0.0
        self.size = min(max_size, SQLITE_FIRST_SLICE) if self.sqlite else max_size
        self.slices = 0
        self._last_commit: float | None = None

    def run(self, items: Sequence[T], write: Callable[[Sequence[T]], Sequence[R]] | Callable[[object], Sequence[R]],
            prepare: Callable[[Sequence[T]], object] | None = None) -> list[R]:
        """Call ``write(slice)`` (one transaction per call) over consecutive slices of ``items``.

        ``write`` must answer one outcome per item, in order; the outcomes of
        all slices are returned in the order of ``items``. With ``prepare``,
        ``write(prepare(slice))`` is called instead: ``prepare`` does the work
        that needs no transaction (validation, hashing) right after the
        previous commit, so it fills the pause instead of lengthening it.
        """
        out: list[R] = []
        start = 0
        while start < len(items):
            part = items[start:start + self.size]
            work = prepare(part) if prepare is not None else part
            self._step_aside()
            began = time.perf_counter()
            outcomes = write(work)
            self._last_commit = time.perf_counter()
            if len(outcomes) != len(part):  # pragma: no cover - a contract violation of ``write``
                raise RuntimeError(f"{len(outcomes)} outcomes for a slice of {len(part)} items")
            out.extend(outcomes)
            self.slices += 1
            start += len(part)
            self._resize(len(part), self._last_commit - began)
        return out

    def _step_aside(self) -> None:
        if self._last_commit is None or not self.pause_seconds:
            return
        left = self.pause_seconds - (time.perf_counter() - self._last_commit)
        if left > 0:
            time.sleep(left)

    def _resize(self, done: int, seconds: float) -> None:
        if not self.sqlite or seconds <= 0:
            return
        fitting = int(done * self.slice_seconds / seconds)
        self.size = max(SQLITE_MIN_SLICE, min(self.max_size, fitting, self.size * 2))
