"""How a request's leftover read transaction ends on PostgreSQL: COMMIT when it wrote nothing (issue 12).

Services commit what they write (§3); what is still open when a request ends
is the read transaction of the page's queries, which Flask-SQLAlchemy's
teardown rolls back. psycopg forgets every prepared statement on
``rollback()`` (a rolled-back transaction may have dropped what a plan
refers to), so the page's statements were parsed and planned by PostgreSQL
on every request — planning cost more server CPU than running them. A
transaction that has written nothing ends the same way with COMMIT, which
keeps psycopg's prepared statements: after its threshold (5 runs on a
connection) a page's statements are planned once per connection.

"Wrote nothing" is asked of PostgreSQL itself — ``txid_current_if_assigned()``
is NULL until the transaction writes a row or takes a row lock — so writes
through any path (ORM, Core, the driver's cursor) and a handled error after a
write still end in ROLLBACK. ORM changes not flushed yet, an exception, or a
failed check also leave the rollback to the teardown. SQLite keeps the rollback
(nothing to gain).
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from thrive.extensions import db

_WROTE = "SELECT txid_current_if_assigned() IS NOT NULL"


def end_read_only_transaction(exc: BaseException | None = None) -> bool:
    """Commit the request's open transaction when it wrote nothing (PostgreSQL); True when it did so.

    Registered as an app-context teardown that runs before Flask-SQLAlchemy's
    session removal (which rolls back whatever is left).
    """
    if exc is not None or not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    try:
        connection = session.connection()
        if connection.dialect.name != "postgresql" or connection.exec_driver_sql(_WROTE).scalar():
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
    """Register :func:`end_read_only_transaction` (after ``db.init_app``: teardowns run in reverse order)."""
    app.teardown_appcontext(end_read_only_transaction)
