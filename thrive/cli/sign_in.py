"""``flask thrive sign-in-link USERNAME``: a one-time sign-in link for ops (issue 13).

When ``THRIVE_LOCAL_ACCOUNTS=0`` closes passwords, staff accounts created with
``create-admin`` still need a way in; this prints a single-use link (valid for
``THRIVE_SIGN_IN_LINK_SECONDS``) for any active learner, like the API does for
the platform.
"""
from __future__ import annotations

import click
from flask import current_app, url_for

from thrive.services.accounts import sign_in_links
from thrive.services.errors import ThriveError

from . import thrive_cli
from .core import fail


@thrive_cli.command("sign-in-link")
@click.argument("username")
@click.option("--next", "next_path", default=None, help="A Thrive path to land on (default: the home page).")
@click.option("--base-url", default=None, help="Thrive's public URL (default: THRIVE_PUBLIC_URL).")
def sign_in_link_command(username, next_path, base_url):
    """Print a one-time sign-in link for USERNAME (alone on the last line)."""
    base_url = (base_url or current_app.config.get("THRIVE_PUBLIC_URL") or "").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        fail("set THRIVE_PUBLIC_URL or pass --base-url https://thrive.example.org")
    try:
        issued = sign_in_links.create_link_for_username(
            username, next_path=next_path, lifetime_seconds=current_app.config["THRIVE_SIGN_IN_LINK_SECONDS"])
    except ThriveError as exc:
        fail(exc.message)
    with current_app.test_request_context(base_url=base_url):
        url = url_for("auth.sign_in_link", token=issued.token, _external=True)
    click.echo(f"One-time sign-in link for {username}, valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC:")
    click.echo(url)
