"""Thrive Circle commands: ``assign-circles`` and ``circles`` (§6.1, §12). Thin wrappers over services."""
from __future__ import annotations

import click

from thrive.services.errors import ThriveError
from thrive.services.weekly import circles

from ..timeutil import platform_week, utcnow
from . import thrive_cli
from .core import fail, week_option

WEEK = week_option(lambda: platform_week(utcnow()), "Platform ISO week, e.g. 2026-W05 (default: the current week).")


@thrive_cli.command("assign-circles")
@WEEK
def assign_circles_command(week):
    """Place the week's eligible learners in Thrive Circles (idempotent: a re-run only adds newcomers)."""
    try:
        result = circles.assign_circles(week)
    except ThriveError as exc:
        fail(exc.message)
    if result["created"]:
        click.echo(f"{week}: placed {result['learners']:,} learners in {result['circles']:,} circles "
                   f"({result['notified']:,} notified).")
    elif result["learners"]:
        click.echo(f"{week} was already assigned: placed {result['learners']:,} newly eligible learners "
                   f"({result['circles']:,} new circles).")
    else:
        click.echo(f"{week} was already assigned: nothing to do.")
    if result["goals_completed"]:
        click.echo(f"{result['goals_completed']:,} circle goals were already reached and have been settled.")


@thrive_cli.command("circles")
@WEEK
def circles_command(week):
    """List the week's Thrive Circles: one line per circle with name, tier and member count."""
    try:
        rows = circles.list_circles(week)
    except ThriveError as exc:
        fail(exc.message)
    if not rows:
        click.echo(f"No circles for {week}.")
        return
    width = max(len(c.name) for c in rows)
    for c in rows:
        click.echo(f"{c.name.ljust(width)}  {c.tier.name:<8} {c.members:>3} member{'s' if c.members != 1 else ''}"
                   + ("  goal reached" if c.goal_completed else ""))
    click.echo(f"{len(rows):,} circles, {sum(c.members for c in rows):,} members in {week}.")
