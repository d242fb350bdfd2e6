"""The circle panel: ``/panels/circle`` serves the fragment (HTMX polling) or a page (§6.1)."""
from __future__ import annotations

from datetime import datetime

from flask import make_response, render_template
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from thrive.services.weekly.circles import circle_panel, format_remaining, week_reset

from ...timeutil import utcnow
from ..home.panels import register_home_panel
from ..htmx import is_htmx
from . import bp

TEMPLATE = "home/_circle_panel.html"


def panel_context(learner, now: datetime) -> dict:
    """Context of the circle panel for ``learner`` at UTC instant ``now`` (the template reads ``ctx``)."""
    week, resets_at, remaining = week_reset(now)
    return {
        "panel": circle_panel(learner.id, now),
        "week": week,
        "resets_at": resets_at,
        "resets_at_iso": resets_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "remaining": format_remaining(remaining),
    }


register_home_panel("circle", TEMPLATE, panel_context, order=20)


@bp.route("/panels/circle")
@login_required
def panel():
    """The circle panel alone for HTMX (``hx-trigger="every 60s"``), else a page around it."""
    ctx = panel_context(current_user, utcnow())
    if is_htmx():
        body = render_block(TEMPLATE, "circle_panel", ctx=ctx)
    else:
        body = render_template("circles/index.html", ctx=ctx)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response
