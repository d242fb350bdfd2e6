"""The circle panel: ``/panels/circle`` serves the fragment (HTMX polling) or a page (§6.1)."""
from __future__ import annotations

from datetime import datetime

from flask_login import current_user, login_required

from thrive.services.community.visibility import MIN_AGGREGATE_CONTRIBUTORS
from thrive.services.weekly.circles import circle_panel, week_reset

from ...timeutil import utc_iso, utcnow
from ..home.panels import register_home_panel
from ..htmx import page_or_fragment
from . import bp

TEMPLATE = "home/_circle_panel.html"


def panel_context(learner, now: datetime) -> dict:
    """Context of the circle panel for ``learner`` at UTC instant ``now`` (the template reads ``ctx``)."""
    week, resets_at, remaining = week_reset(now)
    return {
        "panel": circle_panel(learner.id, now),
        "week": week,
        "resets_at": resets_at,
        "resets_at_iso": utc_iso(resets_at),
        "remaining_seconds": remaining,
        # progress stays hidden until this many members have earned points this week (§1.3)
        "min_contributors": MIN_AGGREGATE_CONTRIBUTORS,
    }


register_home_panel("circle", TEMPLATE, panel_context, order=20)


@bp.route("/panels/circle")
@login_required
def panel():
    """The circle panel alone for HTMX (``hx-trigger="every 60s"``), else a page around it."""
    return page_or_fragment("circles/index.html", "circle_panel", fragment_template=TEMPLATE,
                            ctx=panel_context(current_user, utcnow()))
