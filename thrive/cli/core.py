"""Core commands: seed, create-admin, create-api-key, revoke-api-key, award, verify."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime

import click

from thrive.services.accounts import api_keys, learners
from thrive.services.errors import ThriveError
from thrive.services.points import registry
from thrive.services.points.award import award
from thrive.services.points.verify import verify
from thrive.services.quests.seeding import seed_quests_and_achievements
from thrive.timeutil import parse_week

from . import thrive_cli


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` to stderr and exit with ``code`` (non-zero)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def week_option(default: Callable[[], str], help: str):
    """A ``--week YYYY-Www`` option (platform ISO week) whose value is checked by click.

    ``default()`` gives the week when the option is omitted (asked at run time,
    e.g. the current week). A malformed or non-existent week is a usage error:
    click prints "Invalid value for '--week': <why>" and exits with status 2.
    """
    def check(ctx, param, value):
        if value is None:
            return default()
        value = value.strip()
        try:
            parse_week(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
        return value

    return click.option("--week", default=None, callback=check, metavar="YYYY-Www", help=help)


@thrive_cli.command("seed")
def seed_command():
    """Insert default rules, tiers, levels and goal templates (idempotent, keeps admin edits)."""
    counts = registry.seed_defaults()
    counts.update(seed_quests_and_achievements())  # §10: default side quests and achievements
    click.echo("Seeded: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))


@thrive_cli.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted when omitted).")
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.option("--also-learner", is_flag=True, default=False,
              help="Also take part as a learner (circles, daily visits, feeds); staff are not learners by default.")
def create_admin_command(username, password, display_name, email, also_learner):
    """Create an admin account (staff role "admin", §11) or promote an existing account and reset its password.

    A new admin is not a learner unless ``--also-learner``; a promoted learner keeps taking part.
    """
    from ..extensions import db
    from ..models import Learner
    from ..services.accounts.passwords import check_new_password

    try:
        existing = db.session.query(Learner).filter(Learner.username == username).one_or_none()
        if existing:
            check_new_password(password, [existing.username, existing.display_name, existing.email])
            existing.staff_role = "admin"
            existing.is_learner = existing.is_learner or also_learner
            existing.password_hash = learners.hash_password(password)
            existing.session_generation = (existing.session_generation or 0) + 1  # old sign-ins end
            db.session.commit()
            click.echo(f"Promoted {username} to admin.")
            return
        learners.create_learner(username, display_name, password=password, email=email, staff_role="admin",
                                is_learner=also_learner, check_password=True)
    except ThriveError as exc:
        fail(exc.message)
    click.echo(f"Created admin {username}.")


@thrive_cli.command("create-api-key")
@click.argument("name")
def create_api_key_command(name):
    """Create an integration API key; the key is printed alone on the last line (shown once)."""
    try:
        row, plaintext = api_keys.create_api_key(name)
    except ThriveError as exc:
        fail(exc.message)
    click.echo(f"API key {row.id} ({row.name}) created. Store it now; it is not shown again:")
    click.echo(plaintext)


@thrive_cli.command("revoke-api-key")
@click.argument("key_id_or_prefix")
def revoke_api_key_command(key_id_or_prefix):
    """Revoke an API key by id or prefix."""
    try:
        row = api_keys.revoke_api_key(key_id_or_prefix)
    except ThriveError as exc:
        fail(exc.message)
    click.echo(f"Revoked API key {row.id} ({row.name}).")


@thrive_cli.command("api-keys")
def list_api_keys_command():
    """List API keys (never the keys themselves)."""
    for row in api_keys.list_api_keys():
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.prefix}\t{row.name}\t{state}")


@thrive_cli.command("award")
@click.argument("username")
@click.argument("activity_type")
@click.option("--points", type=int, default=None, help="Custom amount, where the rule allows it.")
@click.option("--key", "event_key", default=None, help="Event key (default: a fresh cli:<uuid>).")
@click.option("--meta", default=None, help="Metadata as a JSON object.")
@click.option("--description", default=None, help="Description (the reason, for admin_adjustment).")
@click.option("--at", "occurred_at", default=None, help="When it happened (ISO 8601; default now).")
def award_command(username, activity_type, points, event_key, meta, description, occurred_at):
    """Award ACTIVITY_TYPE to USERNAME through award() and print the result."""
    import uuid

    try:
        metadata = json.loads(meta) if meta else None
    except json.JSONDecodeError as exc:
        fail(f"--meta is not valid JSON: {exc}", 2)
    when = None
    if occurred_at:
        try:
            when = datetime.fromisoformat(occurred_at)
        except ValueError:
            fail(f"--at is not an ISO 8601 instant: {occurred_at!r}", 2)
    try:
        learner = learners.get_by_username(username)
        result = award(learner, activity_type, event_key=event_key or f"cli:{uuid.uuid4()}",
                       occurred_at=when, metadata=metadata, description=description, points=points)
    except ThriveError as exc:
        fail(f"{exc.message} ({exc.code})")
    flags = [f for f, on in (("duplicate", result.duplicate), ("capped", result.capped),
                             ("tier up", result.tier_upgraded), ("level up", result.level_upgraded)) if on]
    click.echo(
        f"{username}: {result.points_awarded:+d} points for {activity_type}"
        + (f" [{', '.join(flags)}]" if flags else "")
        + f"; total {result.total_points}, tier {result.tier}, level {result.level} (entry {result.event_id})"
    )


@thrive_cli.command("verify")
@click.option("--fix", is_flag=True, help="Repair drifted derived state from the ledger.")
def verify_command(fix):
    """Recompute derived state from the ledger; exit 1 when drift is found (§4.4)."""
    drifts = verify(fix=fix)
    if not drifts:
        click.echo("No drift: derived state matches the ledger.")
        return
    learners_hit = len({d.learner_id for d in drifts})
    for d in drifts[:200]:
        click.echo(f"drift: {d.username} (#{d.learner_id}) {d.field}: stored {d.stored!r}, ledger says {d.expected!r}")
    if len(drifts) > 200:
        click.echo(f"… and {len(drifts) - 200} more")
    if fix:
        click.echo(f"Fixed {len(drifts)} field(s) for {learners_hit} learner(s).")
        return
    click.echo(f"{len(drifts)} drifted field(s) for {learners_hit} learner(s). Run with --fix to repair.")
    sys.exit(1)
