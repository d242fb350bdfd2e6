"""Configuration as data (§11, §12): ``export-config`` and ``import-config FILE [--dry-run]``.

``export-config`` writes the rules, tier ladder, level table and goal
templates (and any section another domain registers) as one JSON document to
stdout or ``--output``. ``import-config`` shows the differences first; without
``--dry-run`` it applies them in one transaction with one audit entry, as the
staff account named by ``--as`` (default: an entry signed ``cli``).
Bad input exits with status 2 and a message.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import click
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.services.errors import ThriveError

from . import thrive_cli
from .core import fail


def _describe(change) -> str:
    head = f"{change.action:6} {change.section}: {change.key}"
    if not change.fields:
        return head
    parts = [f"{name} {json.dumps(old)} → {json.dumps(new)}" for name, (old, new) in change.fields.items()]
    return head + " (" + "; ".join(parts) + ")"


@thrive_cli.command("export-config")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout.")
def export_config_command(output):
    """Export rules, tiers, levels and goal templates as one JSON document."""
    from thrive.services.admin.config_data import export_config

    text = json.dumps(export_config(), indent=2, ensure_ascii=False, sort_keys=False)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        click.echo(f"Configuration written to {output}.")
    else:
        click.echo(text)


@thrive_cli.command("import-config")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Show the differences; write nothing.")
@click.option("--celebrate", is_flag=True, help="Celebrate promotions a new ladder causes (default: silent).")
@click.option("--as", "actor_name", default=None, metavar="USERNAME", help="The staff account to audit it as.")
def import_config_command(file, dry_run, celebrate, actor_name):
    """Import a configuration document (differences first; --dry-run writes nothing)."""
    from thrive.models import Learner
    from thrive.services.admin.config_data import MAX_DOCUMENT_BYTES, ConfigErrors, import_config

    raw = file.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        fail(f"{file.name}: larger than {MAX_DOCUMENT_BYTES} bytes", 2)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"{file.name}: not valid JSON ({exc.msg} at line {exc.lineno})", 2)
    actor = SimpleNamespace(id=None, username="cli")
    if actor_name:
        actor = db.session.scalar(select(Learner).where(func.lower(Learner.username) == actor_name.lower()))
        if actor is None or actor.staff_role != "admin":
            fail(f"--as: {actor_name} is not an admin account", 2)
    try:
        result = import_config(doc, actor=actor, dry_run=dry_run, celebrate=celebrate)
    except ConfigErrors as exc:
        for path, code in exc.errors.items():
            click.echo(f"  {path or '(document)'}: {code}", err=True)
        fail(f"{file.name}: the configuration is not valid", 2)
    except ThriveError as exc:
        fail(exc.message, 2)
    for change in result.changes:
        click.echo(_describe(change))
    if not result.changes:
        click.echo("No differences.")
    elif dry_run:
        click.echo(f"Dry run: {len(result.changes)} difference(s); nothing written.")
    else:
        promoted = result.summary.get("promoted")
        extra = f"; {promoted} learner(s) promoted" if promoted else ""
        click.echo(f"Imported: {len(result.changes)} change(s) applied{extra}.")
