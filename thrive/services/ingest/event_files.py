"""Importing events from files (``flask thrive import FILE``, §12) and the shared batch runner.

A file holds events in the integration API's event shape (§13)::

    {"user": "<external id>", "activity_type": "quiz_completed", "event_key": "lms:42",
     "occurred_at": "2026-03-02T09:15:00Z", "metadata": {"score": 100, "topic": "SQL"},
     "description": "…", "points": null}

as JSON Lines (one object per line) or CSV (one column per field; ``metadata``
is a JSON object in a string column; empty cells mean "not given").

Every row is checked by the one event validator (``services/points/events.py``,
the same as the API's) and awarded through the batch service
(:func:`thrive.services.points.batch.award_events`, the batch form of
``award()``, §4.1): caps, idempotency (§4.3), derived state and the rule checks
(unknown or disabled type, points allowed) are exactly those of a single award
— the importer does not repeat them. Importing the same file again awards
nothing (every row answers as a duplicate). ``dry_run`` runs every batch and
rolls it back: nothing is written.

The file is streamed: a first pass checks it can be read (UTF-8, CSV quoting)
and counts its rows, the second reads ``batch_size`` rows at a time, so memory
does not grow with the file, and awards them in short write transactions
(:class:`~thrive.db.WriteSlicer`: on SQLite each lasts
about 0.5 s, so web writes never wait long behind an import).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from more_itertools import chunked

from thrive.db import WriteSlicer
from thrive.services.errors import ThriveError, UnknownLearner, ValidationError
from thrive.services.ingest.batches import DEFAULT_BATCH_SIZE, ImportSummary, Progress
from thrive.services.points.batch import award_events
from thrive.services.points.events import EVENT_FIELDS, REQUIRED_FIELDS, EventInput, parse_event
from thrive.timeutil import as_utc, utcnow

__all__ = ["DEFAULT_BATCH_SIZE", "ImportFileError", "ImportSummary", "import_events", "read_event_rows"]

FORMATS = ("jsonl", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


class ImportFileError(ValidationError):
    """The file as a whole cannot be read: missing, not UTF-8, unknown format, bad CSV header."""

    code = "invalid_import_file"


class RowError(Exception):
    """One row is malformed; ``str(exc)`` is the reason shown with its line number."""


# ---------------------------------------------------------------- reading files

def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """``fmt`` when given, else the format implied by the file extension.

    Raises ``ImportFileError`` for an unknown format or extension.
    """
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format {fmt!r}; use jsonl or csv")
        return fmt
    found = EXTENSIONS.get(Path(path).suffix.lower())
    if not found:
        raise ImportFileError(
            f"cannot tell the format of {Path(path).name!r} from its extension; "
            "name it .jsonl or .csv, or pass --format jsonl|csv"
        )
    return found


def _lines(path: str | Path) -> Iterator[str]:
    """The file's lines, decoded as they are read (``ImportFileError`` when unreadable or not UTF-8)."""
    try:
        handle = Path(path).open(encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError as exc:
        raise ImportFileError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise ImportFileError(f"{path} is a directory, not a file") from exc
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):  # noqa: B007 - number is reported below
                yield line
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{path} is not UTF-8 text (line {number + 1}, byte {exc.start}: "
                                  f"{exc.reason})") from exc
        except OSError as exc:
            raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _iter_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict | RowError]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, RowError(f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield number, RowError(f"expected a JSON object, got {type(value).__name__}")
            continue
        yield number, value


def _csv_cell(name: str, value: str):
    """Convert one non-empty CSV cell to its JSON value; raise ``RowError``."""
    if name == "metadata":
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowError(f"metadata is not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if name == "points":
        try:
            return int(value.strip())
        except ValueError as exc:
            raise RowError(f"points must be an integer, got {value.strip()!r}") from exc
    return value if name == "description" else value.strip()


def _iter_csv(lines: Iterable[str]) -> Iterator[tuple[int, dict | RowError]]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFileError(f"line 1: the CSV header cannot be read ({exc})") from exc
    if not header:
        raise ImportFileError("the CSV file is empty (it needs a header row: user,activity_type,event_key,…)")
    columns = [h.strip() for h in header]
    missing = [c for c in REQUIRED_FIELDS if c not in columns]
    unknown = [c for c in columns if c not in EVENT_FIELDS]
    if missing or unknown or len(set(columns)) != len(columns):
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if unknown:
            problems.append("unknown column(s) " + ", ".join(repr(c) for c in unknown))
        if len(set(columns)) != len(columns):
            problems.append("repeated column names")
        raise ImportFileError(
            "line 1: bad CSV header: " + "; ".join(problems) + f" (allowed: {', '.join(EVENT_FIELDS)})"
        )
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {reader.line_num}: the CSV cannot be parsed ({exc})") from exc
        start, previous_end = previous_end + 1, reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield start, RowError(f"{len(row)} fields, but the header has {len(columns)}")
            continue
        try:
            yield start, {name: _csv_cell(name, value) for name, value in zip(columns, row) if value.strip()}
        except RowError as exc:
            yield start, exc


def read_event_rows(path: str | Path, fmt: str | None = None) -> Iterator[tuple[int, dict | RowError]]:
    """Yield ``(line number, raw event dict or RowError)`` for every non-blank row of ``path``.

    Streamed (one row in memory at a time). Raises ``ImportFileError`` when the file as
    a whole is unusable (missing, not UTF-8, unknown format, bad CSV header or quoting) —
    possibly only when the iteration reaches the bad line.
    """
    fmt = detect_format(path, fmt)
    if fmt == "jsonl":
        return _iter_jsonl(_lines(path))
    return _iter_csv(_lines(path))


def _reject_outcome(summary: ImportSummary, line: int, event: EventInput, exc: ThriveError) -> None:
    if isinstance(exc, UnknownLearner):
        summary.reject(line, f"unknown user {event.user!r} (no learner with that external id)", kind="unknown user")
    else:
        summary.reject(line, exc.message, kind=exc.code.replace("_", " "))


def import_events(
    path: str | Path,
    *,
    fmt: str | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import the events of a JSONL or CSV file through the batch service (§12).

    Args:
        path: the file; ``fmt`` ("jsonl"/"csv") overrides the extension.
        dry_run: validate and award every row in transactions that are rolled back; write nothing.
        batch_size: rows read at a time, and the most events per transaction (fewer on SQLite).
        now: the current instant (tests); defaults to the clock.
        progress: called with the number of rows done after each batch.
        on_total: called once with the number of rows about to be processed
            (so the caller can size a progress bar).

    Returns the :class:`ImportSummary`. Malformed rows, unknown learners or
    activity types, disabled activities, points out of range, future
    instants and event keys reused with another payload are rejected with
    their line numbers; the other rows are still imported.

    Raises ``ImportFileError`` when the file itself is unusable (checked by a
    first streaming pass, so nothing is written then).
    """
    slicer = WriteSlicer(batch_size)
    now = as_utc(now) if now else utcnow()
    summary = ImportSummary(dry_run=dry_run)
    total = sum(1 for _ in read_event_rows(path, fmt))  # first pass: readable, and how many rows
    if on_total:
        on_total(total)
    seen: set[str] = set()  # a dry run's new keys (its batches roll back, so later repeats look new)
    for chunk in chunked(read_event_rows(path, fmt), batch_size):
        summary.rows_read += len(chunk)
        events: list[tuple[int, EventInput]] = []
        for line, raw in chunk:
            if isinstance(raw, RowError):
                summary.reject(line, str(raw), kind="malformed row")
                continue
            try:
                events.append((line, parse_event(raw)))
            except ValidationError as exc:
                summary.reject(line, exc.message, kind="malformed row")
        outcomes = slicer.run([e for _, e in events], lambda part: award_events(part, now=now, dry_run=dry_run))
        for (line, event), outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, ThriveError):
                _reject_outcome(summary, line, event, outcome)
            elif dry_run:
                if outcome.duplicate or event.event_key in seen:
                    summary.duplicates += 1
                else:
                    summary.pending += 1
                    seen.add(event.event_key)
            else:
                summary.tally(outcome)
        if progress:
            progress(len(chunk))
    return summary
