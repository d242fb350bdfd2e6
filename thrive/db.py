"""Database plumbing shared by services: SQLite tuning and write transactions (§15).

SQLite runs in WAL mode with a busy timeout so that the web workers, the
scheduler process and CLI imports can share one file. Writes that must be
exact under concurrency (``award()``, job runs) open their transaction with
``BEGIN IMMEDIATE`` through :func:`write_transaction`, so the write lock is
taken up front and waits (busy timeout) instead of failing with "database is
locked" when a deferred read transaction tries to upgrade. On PostgreSQL the
same helper is a plain transaction; callers lock rows with ``FOR UPDATE``.
"""
from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 60_000

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
