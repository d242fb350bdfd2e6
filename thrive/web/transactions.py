"""How a request's database work is framed on PostgreSQL: reads outside a transaction on GET (issue 12).

Services commit what they write (§3); what is left when a request ends is the
read work of the page. Ending it used to cost three round trips besides the
page's own statements — ``BEGIN`` (psycopg opens a transaction before the first
statement), "did this transaction write?" and ``COMMIT`` (a ``ROLLBACK`` would
have made psycopg forget its prepared statements, so the page's statements
were planned again on every request) — about 0.4 ms of worker CPU and 0.3 ms
of database CPU per page, measured.

So a **GET or HEAD request** reads in autocommit mode: the connection it checks
out of the pool has psycopg's ``autocommit`` on, and a statement that needs a
transaction opens one just before it runs (``BEGIN``, sent by
:func:`_begin_before_writes`):

- any DML (``INSERT``/``UPDATE``/``DELETE``: ORM flushes, Core statements),
  a ``SELECT … FOR UPDATE/SHARE``, a textual or driver-level SQL string, DDL,
  anything that is not a plain ``SELECT``, and a savepoint;
- everything inside :func:`thrive.db.write_transaction` (the award path among
  others, which runs statements on the driver's cursor): a connection checked
  out there is an ordinary transactional one.

From that ``BEGIN`` on the connection is in an ordinary transaction, which the
service commits (``COMMIT``) or an error rolls back — atomic as before. Plain
reads lose nothing: under PostgreSQL's READ COMMITTED, the default, each
statement already read its own snapshot inside a transaction too. The
connection goes back to the pool with ``autocommit`` off again.

Other requests (POST …) and work outside a request (CLI, scheduler) keep the
ordinary transaction, and :func:`end_read_only_transaction` ends what is left
open with ``COMMIT`` when it wrote nothing — ``txid_current_if_assigned()`` is
NULL until the transaction writes a row or takes a row lock — so writes through
any path and a handled error after a write still end in ROLLBACK. SQLite is
untouched (nothing to gain).
"""
from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import Pool

from thrive.db import in_write_transaction
from thrive.extensions import db

_WROTE = "SELECT txid_current_if_assigned() IS NOT NULL"
#: Pool record ``info`` key: this connection was checked out with autocommit on (a GET request's reads).
AUTOCOMMIT_READS = "thrive.autocommit_reads"
_READ_METHODS = frozenset(("GET", "HEAD"))
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open


def _is_psycopg(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("psycopg")


def _checkout(dbapi_connection, connection_record, _proxy) -> None:
    """Pool ``checkout``: a GET/HEAD request's connection reads in autocommit mode (outside write blocks)."""
    if not has_request_context() or request.method not in _READ_METHODS or in_write_transaction() \
            or not _is_psycopg(dbapi_connection):
        return
    dbapi_connection.autocommit = True
    connection_record.info[AUTOCOMMIT_READS] = True


def _checkin(dbapi_connection, connection_record) -> None:
    """Pool ``checkin`` (after the reset's rollback): the connection is transactional again for its next user."""
    if not connection_record.info.pop(AUTOCOMMIT_READS, False) or dbapi_connection is None:
        return
    try:
        if dbapi_connection.info.transaction_status != _IDLE:
            dbapi_connection.rollback()
        dbapi_connection.autocommit = False
    except Exception:  # noqa: BLE001 — a broken connection: the pool must not hand it out again
        connection_record.invalidate()


def needs_transaction(statement) -> bool:
    """True unless ``statement`` (a Core/ORM construct or a SQL string) is a plain ``SELECT`` without locks."""
    if isinstance(statement, str):
        return statement != _WROTE
    if not getattr(statement, "is_select", False):
        return True  # DML, DDL, text(), functions…: whatever it does runs in a transaction
    return getattr(statement, "_for_update_arg", None) is not None


def _open_transaction(connection) -> None:
    """``BEGIN`` on a GET request's autocommit connection unless a transaction is open already."""
    fairy = connection.connection
    if not fairy.info.get(AUTOCOMMIT_READS):
        return
    driver = fairy.driver_connection
    if driver.info.transaction_status == _IDLE:
        driver.execute("BEGIN")


def _begin_before_writes(connection, statement, *_args) -> None:
    """Engine ``before_execute``: open the transaction a write (or a row lock) needs, see the module docstring."""
    if connection.connection.info.get(AUTOCOMMIT_READS) and needs_transaction(statement):
        _open_transaction(connection)


def _begin_before_savepoint(connection, _name) -> None:
    """Engine ``savepoint``: a savepoint lives in a transaction."""
    _open_transaction(connection)


def end_read_only_transaction(exc: BaseException | None = None) -> bool:
    """End the request's open work without a rollback when it wrote nothing (PostgreSQL); True when it did so.

    A GET request's autocommit connection with no transaction open has nothing to end (True, no round
    trip). An ordinary transaction that wrote nothing is committed. Registered as an app-context teardown
    that runs before Flask-SQLAlchemy's session removal (which rolls back whatever is left).
    """
    if exc is not None or not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    try:
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return False
        fairy = connection.connection
        if fairy.info.get(AUTOCOMMIT_READS) and fairy.driver_connection.info.transaction_status == _IDLE:
            return True  # reads only, each already done: the teardown's close sends nothing
        if connection.exec_driver_sql(_WROTE).scalar():
            return False
        expire, session.expire_on_commit = session.expire_on_commit, False  # objects stay as a rollback leaves them
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except SQLAlchemyError:
        return False  # the teardown's rollback ends it
    return True


def init_app(app: Flask) -> None:
    """Register the pool and engine events (once per process) and :func:`end_read_only_transaction`
    (after ``db.init_app``: teardowns run in reverse order)."""
    for target, name, listener in ((Pool, "checkout", _checkout), (Pool, "checkin", _checkin),
                                   (Engine, "before_execute", _begin_before_writes),
                                   (Engine, "savepoint", _begin_before_savepoint)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
    app.teardown_appcontext(end_read_only_transaction)
