"""Your Thrive Circle — the home page and its panels (§7).

One URL per panel serves the full page or, for HTMX polling, the panel alone
(``Vary: HX-Request``). The status poll also carries pending celebrations out
of band so a tier-up awarded through the API shows up without a reload.
Panels owned by other areas (circle, weekly goals) come from
:mod:`.panels` and are rendered on the server inside this page.
"""
from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, session, url_for
from flask_login import current_user, login_required

from thrive.services.accounts.onboarding import earning_rules, onboarding
from thrive.services.insights.recommendations import recommend
from thrive.services.progression.state import status_for

from ...timeutil import as_utc, utcnow
from ..htmx import is_htmx, page_or_fragment
from ..notifications.oob import celebration_oob
from . import bp
from .panels import home_panels

TEMPLATE = "home/index.html"


def _first_visit(now) -> bool:
    """"Welcome" on a learner's first visit (their first day, once per session), "Welcome back" after."""
    created = current_user.created_at
    if session.get("welcomed"):
        return False
    session["welcomed"] = True  # written once: an unchanged session is not re-signed and re-sent
    return created is not None and (now - as_utc(created)) < timedelta(days=1)


def _context(now, *, with_panels: bool = False) -> dict:
    ctx = {"learner": current_user, "status": status_for(current_user.state, current_user.timezone, now)}
    if not is_htmx():
        ctx["first_visit"] = _first_visit(now)
    if with_panels:
        ctx["onboarding"] = onboarding(current_user, now)
        if ctx["onboarding"].completed:
            ctx["onboarding"] = None
        else:
            ctx["earning_rules"] = earning_rules()
        ctx["panels"] = home_panels(current_user, now)
        # the goals panel has read this week's goals: recommendations reuse them (one query fewer)
        goals = next((panel_ctx.get("goals") for panel, panel_ctx in ctx["panels"] if panel.key == "goals"), None)
        ctx["recommendations"] = recommend(current_user, now, goals=goals)
    return ctx


def _status_response(now):
    """The status panel: full page for a plain request; fragment + pending celebrations for HTMX."""
    if not is_htmx():
        return page_or_fragment(TEMPLATE, "status_panel", **_context(now, with_panels=True))
    return page_or_fragment(TEMPLATE, "status_panel", extra=celebration_oob(current_user.id), **_context(now))


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


@bp.route("/points")
@login_required
def points():
    """How points are earned: every enabled rule, its points, caps and where to do it (§4.2, §7)."""
    return render_template("home/points.html", rules=earning_rules())
