"""The weekly goals panel: one URL for the fragment (HTMX polling) and a full page.

The panel is also registered on the home page (``register_home_panel``), which
renders it on the server with :func:`goals_panel_context`. It shows only the
signed-in learner's own goals (§1.3).
"""
from __future__ import annotations

from datetime import datetime

from flask_login import current_user, login_required

from thrive.services.weekly.goals import weekly_goal_views

from ...timeutil import as_utc, shift_week, utcnow, week_start_instant
from ..home.panels import register_home_panel
from ..htmx import page_or_fragment
from . import bp


def goals_panel_context(learner, now: datetime) -> dict:
    """Context of ``home/_goals_panel.html`` for ``learner`` at ``now`` (UTC): creates the week's goals lazily.

    Keys: ``week`` (ISO week label), ``goals`` (list of :class:`GoalView`),
    ``completed``/``total`` (counts), ``all_done`` (stop polling),
    ``resets_at`` (UTC instant of next Monday 00:00, platform time), ``resets_in_seconds``
    (worded by the ``countdown`` filter, Babel).
    """
    now = as_utc(now)
    week, goals = weekly_goal_views(learner, now)
    reset = week_start_instant(shift_week(week, 1))
    completed = sum(1 for g in goals if g.completed)
    return {
        "week": week, "goals": goals, "completed": completed, "total": len(goals),
        "all_done": bool(goals) and completed == len(goals), "resets_at": reset,
        "resets_in_seconds": max(int((reset - now).total_seconds()), 0),
    }


register_home_panel("goals", "home/_goals_panel.html", goals_panel_context, order=30)


@bp.route("/panels/goals")
@login_required
def panel():
    """The goals panel: the fragment for HTMX, the "Weekly goals" page otherwise."""
    return page_or_fragment("goals/index.html", "goals_panel", ctx=goals_panel_context(current_user, utcnow()),
                            learner=current_user)
