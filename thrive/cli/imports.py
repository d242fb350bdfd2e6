"""Import commands: ``import FILE`` and ``import-oulad DIR`` (§12, §14); thin wrappers over services."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError

from thrive.services.ingest.event_files import DEFAULT_BATCH_SIZE, ImportFileError, ImportSummary, import_events
from thrive.services.ingest.oulad import DEFAULT_BATCH_SIZE as OULAD_BATCH_SIZE
from thrive.services.ingest.oulad import OuladFormatError, import_oulad

from . import thrive_cli
from .core import fail


class _Bar:
    """A click progress bar opened lazily once the total is known (services report it)."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def start(self, total: int) -> None:
        self.bar = click.progressbar(length=max(total, 0), label=self.label, file=sys.stderr,
                                     show_pos=True, show_percent=True, show_eta=True)
        self.bar.__enter__()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def progress_bar(label: str):
    """A progress bar on stderr for a service that reports ``on_total(n)`` then ``progress(done)``."""
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.close()


def _report(summary: ImportSummary, elapsed: float, *, rate_of: int) -> None:
    for line in summary.lines():
        click.echo(line)
    if elapsed > 0 and rate_of:
        click.echo(f"Time:        {elapsed:.1f} s ({rate_of / elapsed:,.0f} events/s)")
    if summary.rejected:
        click.echo(f"{summary.rejected:,} row(s) rejected.", err=True)
        sys.exit(1)


def _interrupted(exc: Exception) -> str:
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return (f"the database refused a batch ({reason}). Batches finished before it were kept; "
            "run the same import again to complete it (imported rows answer as duplicates).")


def _batch_size(_ctx, _param, value: int) -> int:
    if value < 1:
        raise click.BadParameter("must be at least 1")
    return value


@thrive_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"], case_sensitive=False), default=None,
              help="File format (default: from the extension, .jsonl/.ndjson or .csv).")
@click.option("--dry-run", is_flag=True, help="Validate every row and report; write nothing.")
@click.option("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, show_default=True, callback=_batch_size,
              help="Events per transaction.")
def import_command(file, fmt, dry_run, batch_size):
    """Import events (JSONL or CSV in the API's event shape) through award().

    Each row: user (external id), activity_type, event_key, and optionally
    occurred_at (ISO 8601), metadata (a JSON object), description, points.
    Idempotent: importing the same file again awards nothing. Exits 1 when
    any row is rejected (the other rows are still imported), 2 when the file
    cannot be read.
    """
    started = time.perf_counter()
    try:
        with progress_bar("Dry run" if dry_run else "Importing") as bar:
            summary = import_events(file, fmt=fmt, dry_run=dry_run, batch_size=batch_size,
                                    on_total=bar.start, progress=bar.advance)
    except ImportFileError as exc:
        fail(exc.message, 2)
    except SQLAlchemyError as exc:
        fail(_interrupted(exc))
    _report(summary, time.perf_counter() - started,
            rate_of=0 if dry_run else summary.awarded + summary.capped + summary.duplicates)


@thrive_cli.command("import-oulad")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option("--shift-to-now", is_flag=True,
              help="Shift instants by whole weeks so the last busy week is last week; skip future ones.")
@click.option("--batch-size", type=int, default=OULAD_BATCH_SIZE, show_default=True, callback=_batch_size,
              help="Awards per transaction.")
def import_oulad_command(directory, shift_to_now, batch_size):
    """Import OULAD assessment submissions from DIRECTORY through award() (§14).

    DIRECTORY holds assessments.csv and studentAssessment.csv of the Open
    University Learning Analytics Dataset. CMA → quiz_completed, TMA →
    project_published, Exam → weekly_challenge_completed; banked results are
    skipped; one learner per student (external id oulad:<id>). Running it
    twice awards nothing the second time.
    """
    started = time.perf_counter()
    try:
        with progress_bar("Importing OULAD") as bar:
            summary = import_oulad(directory, shift_to_now=shift_to_now, batch_size=batch_size,
                                   on_total=bar.start, progress=bar.advance)
    except OuladFormatError as exc:
        fail(str(exc), 2)
    except SQLAlchemyError as exc:
        fail(_interrupted(exc))
    _report(summary, time.perf_counter() - started,
            rate_of=summary.awarded + summary.capped + summary.duplicates)
