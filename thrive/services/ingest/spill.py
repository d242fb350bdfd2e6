"""A temporary on-disk sort for streamed imports (§14, issue 12 item 6 "Memory").

The OULAD importer must award submissions in (instant, student, assessment)
order, because caps depend on order, yet it reads them in file order. Rather
than holding every row in memory, it spills compact integer rows into a
throw-away SQLite database (stdlib :mod:`sqlite3`, in a :mod:`tempfile`
directory) and reads them back sorted through a cursor, so the importer's
memory does not grow with the file size.

Rows are tuples of integers ``(instant, student, assessment, line, score)``:
``instant`` in whole seconds since the Unix epoch (UTC), ``score`` may be
None. The directory is removed when the ``with`` block ends, on success or
on error.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Rows buffered in memory before one ``executemany`` into the spill file.
FLUSH_ROWS = 5000
#: Rows fetched per ``fetchmany`` when reading back.
FETCH_ROWS = 2000

SpillRow = tuple[int, int, int, int, int | None]


class SortedSpill:
    """Spill ``(instant, student, assessment, line, score)`` rows to disk; read them back sorted.

    Use as a context manager::

        with SortedSpill() as spill:
            spill.add(row)            # any number of times, file order
            spill.sorted(upto=t)      # rows with instant <= t, sorted by
                                      # (instant, student, assessment, line)

    ``upto`` is an epoch second (int) or None for every row. The temporary
    directory (and the SQLite file in it) is deleted on exit, even when the
    block raises. ``sqlite3.Error`` (e.g. a full disk) propagates.
    """

    def __init__(self, directory: str | Path | None = None):
        self._parent = directory
        self.path: Path | None = None
        self._conn: sqlite3.Connection | None = None
        self._buffer: list[SpillRow] = []
        self._indexed = False
        self.count = 0

    def __enter__(self) -> SortedSpill:
        self.path = Path(tempfile.mkdtemp(prefix="thrive-spill-", dir=self._parent))
        try:
            self._conn = sqlite3.connect(self.path / "spill.sqlite3", isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", "cache_size=-2000"):
                self._conn.execute(f"PRAGMA {pragma}")
            self._conn.execute("CREATE TABLE r (instant INTEGER NOT NULL, student INTEGER NOT NULL, "
                               "assessment INTEGER NOT NULL, line INTEGER NOT NULL, score INTEGER)")
            self._conn.execute("BEGIN")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and delete the temporary directory (idempotent)."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        self._buffer = []

    def add(self, row: SpillRow) -> None:
        """Append one row (file order); buffered, written :data:`FLUSH_ROWS` at a time."""
        self._buffer.append(row)
        self.count += 1
        if len(self._buffer) >= FLUSH_ROWS:
            self._flush()

    def add_many(self, rows: Iterable[SpillRow]) -> None:
        for row in rows:
            self.add(row)

    def _flush(self) -> None:
        if self._buffer:
            self._conn.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", self._buffer)
            self._buffer = []

    def _finish(self) -> None:
        if not self._indexed:
            self._flush()
            self._conn.execute("COMMIT")
            self._conn.execute("CREATE INDEX r_order ON r (instant, student, assessment, line, score)")
            self._indexed = True

    def count_after(self, upto: int) -> int:
        """Number of rows with ``instant > upto`` (epoch seconds)."""
        self._finish()
        return self._conn.execute("SELECT count(*) FROM r WHERE instant > ?", (upto,)).fetchone()[0]

    def sorted(self, upto: int | None = None) -> Iterator[SpillRow]:
        """Rows with ``instant <= upto`` (all if None) in (instant, student, assessment, line) order, lazily."""
        self._finish()
        cursor = self._conn.cursor()
        where = "" if upto is None else " WHERE instant <= ?"
        cursor.execute("SELECT instant, student, assessment, line, score FROM r" + where
                       + " ORDER BY instant, student, assessment, line", () if upto is None else (upto,))
        try:
            while rows := cursor.fetchmany(FETCH_ROWS):
                yield from rows
        finally:
            cursor.close()
