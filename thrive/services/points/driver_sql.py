"""Prebuilt statements executed through the DB-API driver's ``executemany`` (§15: the batch write path).

SQLAlchemy's ``session.execute(statement, rows)`` builds and type-processes
every row's parameters in Python (``construct_params`` per row: about a
third of an import's CPU time for the ledger insert and the state update).
A :class:`DriverStatement` compiles its Core statement once per dialect,
keeps the column types' bind processors (the same functions SQLAlchemy
applies: JSON encoding, SQLite's date and datetime strings, booleans) and
hands the driver plain tuples (qmark, SQLite) or dicts (pyformat, psycopg)
in one ``executemany``. Values are therefore stored exactly as through the
ORM or Core; only the per-row bookkeeping goes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


class DriverStatement:
    """A Core statement compiled once per dialect, run by the driver: ``executemany`` (INSERT/UPDATE rows) or
    :meth:`execute_one` (one row back: the award's hot statements on PostgreSQL).

    Every row must carry every bind parameter of the statement; when one does not (a column left to its
    Python-side default), the rows go through ``fallback`` (a plain Core statement) instead.
    """

    def __init__(self, statement, fallback=None):
        self.statement = statement
        self.fallback = fallback
        self._compiled: dict[object, tuple] = {}  # per dialect object (its JSON serializer)

    def _for(self, dialect) -> tuple:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            names = list(c.positiontup) if c.positional else list(c.binds)
            processors = c._bind_processors
            compiled = self._compiled[dialect] = (str(c), _converter(names, processors, c.positional))
        return compiled

    def executemany(self, session: Session, rows: Sequence[Mapping]) -> None:
        """Execute the statement once per row (one driver ``executemany``) in the session's transaction."""
        if not rows:
            return
        connection = session.connection()
        sql, convert = self._for(connection.dialect)
        try:
            params = [convert(row) for row in rows]
        except KeyError:
            if self.fallback is None:
                raise
            session.execute(self.fallback, list(rows))
            return
        connection.exec_driver_sql(sql, params)


    def execute_returning(self, session: Session, row: Mapping):
        """Execute the statement (with a RETURNING clause) for one row; the first column of its one result row."""
        return self.execute_one(session.connection(), row)[0]

    def execute_one(self, connection: Connection, params: Mapping):
        """Execute the statement once on ``connection`` (in its transaction); its first row, or None.

        PostgreSQL: on the driver's cursor (a tuple; the statement compiled once, SQLAlchemy's bind
        processors applied, psycopg's own result types — the same SQLAlchemy's psycopg dialect returns for
        these statements, which carry no result processor). Driver errors are raised as SQLAlchemy's
        (``IntegrityError`` …) by SQLAlchemy's own handler. When anything listens to the engine's cursor
        events (instrumentation, statement-counting tests) the same SQL goes through SQLAlchemy's
        ``exec_driver_sql`` instead, so they see it. ``params`` may hold keys the statement does not bind.
        SQLite: through SQLAlchemy (a :class:`~sqlalchemy.engine.Row`; its result types
        need SQLAlchemy's processing).
        """
        dialect = connection.dialect
        if dialect.name != "postgresql":
            return connection.execute(self.statement, dict(params)).first()
        sql, convert = self._for(dialect)
        values = convert(params)
        events = connection.engine.dispatch
        if events.before_cursor_execute or events.after_cursor_execute:
            return connection.exec_driver_sql(sql, values).first()
        cursor = _cursor(connection)
        try:
            cursor.execute(sql, values)
            return cursor.fetchone()
        except dialect.loaded_dbapi.Error as exc:
            connection._handle_dbapi_exception(exc, sql, values, cursor, None)  # raises SQLAlchemy's exception
            raise  # pragma: no cover - the handler always raises


def _cursor(connection: Connection):
    """One reusable driver cursor per DB-API connection (kept in the pool record's ``info``)."""
    fairy = connection.connection
    driver = fairy.driver_connection
    cached = fairy.info.get(_CURSOR_KEY)
    if cached is None or cached[0] is not driver or cached[1].closed:
        cached = fairy.info[_CURSOR_KEY] = (driver, driver.cursor())
    return cached[1]


_CURSOR_KEY = "thrive.driver_cursor"


def _converter(names: list[str], processors: dict, positional: bool):
    """``row -> parameters`` for the driver: the values fetched by one ``itemgetter`` (in C), then the few
    columns with a bind processor converted; a tuple (qmark) or a dict (pyformat)."""
    get = itemgetter(*names)
    converted = [(i, processors[name]) for i, name in enumerate(names) if processors.get(name) is not None]

    def convert(row):
        values = get(row)
        if len(names) == 1:
            values = (values,)
        if converted:
            values = list(values)
            for i, process in converted:
                values[i] = process(values[i])
        return tuple(values) if positional else dict(zip(names, values, strict=True))

    return convert


def member_of(column, name: str, item_type, dialect_name: str):
    """``column IN (…)`` with an expanding parameter on SQLite; ``column = ANY(:name)`` on PostgreSQL.

    On PostgreSQL the list travels as one array parameter, so the statement's text (and psycopg's parse
    of it, cached by text) does not grow and change with the list: an expanded IN of 900 ids cost psycopg
    about as much to parse as the award work of the rows it locks.
    """
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(item_type)))
    return column.in_(bindparam(name, expanding=True))


def per_dialect(build) -> dict[str, object]:
    """``{"sqlite": …, "postgresql": …}``: ``build(member)``, ``member(column, name, item_type)`` per dialect."""
    return {dialect: build(lambda column, name, item_type, d=dialect: member_of(column, name, item_type, d))
            for dialect in ("sqlite", "postgresql")}
