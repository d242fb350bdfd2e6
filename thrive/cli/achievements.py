"""``flask thrive grant-achievements``: the achievement backfill (§10, §12); a thin wrapper over the service."""
from __future__ import annotations

import click

from thrive.services.achievements.backfill import backfill, ids_for
from thrive.services.errors import ThriveError

from . import thrive_cli
from .core import fail


@thrive_cli.command("grant-achievements")
@click.option("--learner", "usernames", multiple=True, metavar="USERNAME",
              help="Only this learner (repeatable). Default: every learner with awards.")
@click.option("--achievement", "keys", multiple=True, metavar="KEY",
              help="Only this achievement (repeatable). Default: every active one.")
@click.option("--dry-run", is_flag=True, help="Report what would be granted; write nothing.")
def grant_achievements_command(usernames, keys, dry_run):
    """Grant existing learners the achievements they already meet, dated from the ledger.

    Quiet: no notifications, celebrations, feed items or points; idempotent.
    """
    try:
        learner_ids, achievement_ids = ids_for(usernames, keys)
    except ThriveError as exc:
        fail(exc.message)
    summary = backfill(learner_ids=learner_ids, achievement_ids=achievement_ids, dry_run=dry_run)
    verb = "Would grant" if dry_run else "Granted"
    click.echo(f"{verb} {summary.granted:,} achievement(s) to learners among {summary.learners:,} replayed.")
    for key, count in sorted(summary.by_achievement.items()):
        click.echo(f"  {key}: {count:,}")
