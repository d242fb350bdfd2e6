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
from sqlalchemy.orm import Session


class DriverStatement:
    """A Core INSERT/UPDATE without RETURNING, run with the driver's ``executemany``.

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
        connection = session.connection()
        sql, convert = self._for(connection.dialect)
        return connection.exec_driver_sql(sql, convert(row)).scalar_one()


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
