"""``flask thrive demo``: build the synthetic demo community (§14); a thin wrapper over ``services.demo``."""
from __future__ import annotations

import time

import click

from thrive.services.errors import ThriveError
from thrive.services.ingest import demo

from . import thrive_cli
from .core import fail
from .imports import progress_bar


@thrive_cli.command("demo")
@click.option("--learners", type=click.IntRange(0, demo.MAX_LEARNERS), default=demo.DEFAULT_LEARNERS,
              show_default=True, help="Synthetic learners besides 'admin' and 'demo'.")
@click.option("--weeks", type=click.IntRange(1, demo.MAX_WEEKS), default=demo.DEFAULT_WEEKS, show_default=True,
              help="Weeks of activity up to now.")
@click.option("--seed", type=int, default=demo.DEFAULT_SEED, show_default=True,
              help="Random seed: the same seed gives the same community.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when any learner exists.")
def demo_command(learners, weeks, seed, if_empty):
    """Build a seeded demo community: learners, follows and weeks of activity through award().

    Creates the admin 'admin' (password 'thrive-admin') and the learner
    'demo' (password 'thrive-demo'). Needs an empty database.
    """
    if if_empty and not demo.community_is_empty():
        click.echo("Learners exist already; demo community not created (--if-empty).")
        return
    started = time.perf_counter()
    click.echo(f"Creating {learners:,} learners and their follows…", err=True)
    try:
        with progress_bar("Building the demo community") as bar:
            summary = demo.build_demo(learners=learners, weeks=weeks, seed=seed, on_total=bar.start,
                                      progress=bar.advance)
    except ThriveError as exc:
        fail(exc.message)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"Done in {time.perf_counter() - started:.1f} s.")
