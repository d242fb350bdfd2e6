"""``flask thrive export-learner`` / ``delete-learner``: data subject requests from the command line (issue 10)."""
from __future__ import annotations

from pathlib import Path

import click

from thrive.services.accounts import data_requests, learners
from thrive.services.errors import ThriveError
from thrive.web.data_export import build_export

from . import thrive_cli


def _learner_id(user: str) -> int:
    """A learner by username, or by external id with ``ext:<id>``; raises ClickException."""
    try:
        if user.startswith("ext:"):
            return learners.get_by_external_id(user[4:]).id
        return learners.get_by_username(user).id
    except ThriveError as exc:
        raise click.ClickException(exc.message) from None


@thrive_cli.command("export-learner")
@click.argument("user")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the ZIP (default: thrive-data-<username>.zip here).")
def export_learner_command(user: str, output: Path | None):
    """Export USER's data (username, or ext:<external id>) as a ZIP of JSON + CSV files with an index.html."""
    try:
        export = build_export(_learner_id(user))
    except ThriveError as exc:
        raise click.ClickException(exc.message) from None
    target = output or Path(export.filename)
    target.write_bytes(export.content)
    click.echo(f"Wrote {target} ({sum(export.counts.values())} rows in {len(export.counts)} sections).")


@thrive_cli.command("delete-learner")
@click.argument("user")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_learner_command(user: str, yes: bool):
    """Erase USER (username, or ext:<external id>): personal data removed, ledger kept as anonymous amounts."""
    learner_id = _learner_id(user)
    if not yes:
        click.confirm(f"Erase learner {user!r} for good?", abort=True)
    try:
        result = data_requests.erase_learner(learner_id)
    except ThriveError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Learner #{learner_id} was already erased." if result.already else
               f"Erased learner #{learner_id}; {result.ledger_entries_kept} ledger entries kept as anonymous amounts.")
