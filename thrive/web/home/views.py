"""Your Thrive Circle — the home page and its panels (§7).

One URL per panel serves the full page or, for HTMX polling, the panel alone
(``Vary: HX-Request``). The status poll also carries pending celebrations out
of band so a tier-up awarded through the API shows up without a reload.
Panels owned by other areas (circle, weekly goals) come from
:mod:`.panels` and are rendered on the server inside this page.
"""
from __future__ import annotations

from flask import make_response, redirect, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from thrive.services.insights.recommendations import recommend
from thrive.services.progression.state import status_for

from ...timeutil import utcnow
from ..htmx import is_htmx, page_or_fragment
from ..notifications.oob import celebration_oob
from . import bp
from .panels import home_panels

TEMPLATE = "home/index.html"


def _context(now, *, with_panels: bool = False) -> dict:
    ctx = {"learner": current_user, "status": status_for(current_user.state, current_user.timezone, now)}
    if with_panels:
        ctx["recommendations"] = recommend(current_user, now)
        ctx["panels"] = home_panels(current_user, now)
    return ctx


def _status_response(now):
    """The status panel: full page for a plain request; fragment + pending celebrations for HTMX."""
    if not is_htmx():
        return page_or_fragment(TEMPLATE, "status_panel", **_context(now, with_panels=True))
    body = render_block(TEMPLATE, "status_panel", **_context(now)) + celebration_oob(current_user.id)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


@bp.route("/")
@login_required
def index():
    if current_user.staff_role and not current_user.is_learner:  # staff land in the admin area (§11)
        return redirect(url_for("admin.index"))
    return _status_response(utcnow())


@bp.route("/panels/status")
@login_required
def status_panel():
    return _status_response(utcnow())


@bp.route("/panels/stats")
@login_required
def stats_panel():
    now = utcnow()
    return page_or_fragment(TEMPLATE, "stats_panel", **_context(now, with_panels=not is_htmx()))


@bp.route("/panels/actions")
@login_required
def actions_panel():
    now = utcnow()
    ctx = _context(now, with_panels=not is_htmx())
    ctx.setdefault("recommendations", recommend(current_user, now))
    return page_or_fragment(TEMPLATE, "actions_panel", **ctx)
