"""Admin → dashboard (§11): aggregates only, each figure beside the previous period; CSV of every table."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from thrive.services.admin import dashboard as service
from thrive.services.admin import dashboard_snapshot as snapshot

from . import bp
from .nav import ADMINS, NAV, NavItem, allow_moderators, nav_for

NAV.append(NavItem("admin.index", _l("Dashboard"), ADMINS))
allow_moderators("admin.index")  # the admin area's front door: moderators are sent on to their first section


@bp.route("/")
def index():
    if current_user.staff_role != "admin":
        first = next((item.endpoint for item in nav_for(current_user.staff_role) if item.endpoint != "admin.index"),
                     None)
        if first is None:
            abort(403)
        return redirect(url_for(first))
    return render_template("admin/dashboard.html", d=service.dashboard(), min_cell=service.MIN_CELL,
                           refresh_minutes=snapshot.REFRESH_MINUTES)


def _cell(value):
    """A CSV cell: suppressed cells (None) are empty."""
    return "" if value is None else value


def _tables(d: service.Dashboard) -> dict[str, tuple[list[str], list[list]]]:
    """Each dashboard table as (header, rows) — the same figures as the page."""
    return {
        "weeks": (["week", "active_learners", "points", "points_per_active_learner", "tier_ups", "goals",
                   "goals_completed", "goal_completion_rate"],
                  [[w.week, w.active, w.points, w.points_per_active, w.tier_ups, w.goals, w.goals_completed,
                    None if w.goal_rate is None else round(w.goal_rate, 4)] for w in d.weeks]),
        "tiers": (["tier", "learners", "learners_7_days_ago"], [[s.key, s.learners, s.previous] for s in d.tiers]),
        "levels": (["level", "learners", "learners_7_days_ago"], [[s.key, s.learners, s.previous] for s in d.levels]),
        "streaks": (["streak_days", "learners_reaching", "learners_with_activity"],
                    [[s.key, s.learners, d.streak_base] for s in d.streaks]),
        "sources": (["activity_type", "events", "points", "cap_hit_rate", "events_last_week", "points_last_week",
                     "cap_hit_rate_last_week"],
                    [[s.activity_type, s.events, s.points, None if s.cap_rate is None else round(s.cap_rate, 4),
                      s.prev_events, s.prev_points, None if s.prev_cap_rate is None else round(s.prev_cap_rate, 4)]
                     for s in d.sources]),
        "circles": (["week", "circles", "smallest", "largest", "circles_without_activity"],
                    [[c.week, c.circles, c.min_size, c.max_size, c.inactive] for c in (d.circles_previous, d.circles)]),
    }


#: The downloadable tables (name → the page's heading).
TABLES = ("weeks", "tiers", "levels", "streaks", "sources", "circles")


@bp.route("/dashboard/<table>.csv")
def dashboard_csv(table: str):
    if table not in TABLES:
        abort(404)
    header, rows = _tables(service.dashboard())[table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=thrive-{table}.csv"})
