"""Admin → circles (§11, §6.1): this week's and past weeks' circles, members, re-run an assignment."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l

from thrive.services.admin import circles as service
from thrive.services.errors import NotFound, ThriveError
from thrive.timeutil import platform_week, utcnow

from . import bp
from .forms import RerunCirclesForm
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.circles", _l("Circles"), ADMINS))


def _render(week: str, form: RerunCirclesForm, outcome=None, status: int = 200):
    try:
        circles = service.circles_of(week)
    except ThriveError:
        abort(404)
    return render_template("admin/circles.html", week=week, weeks=service.weeks(), circles=circles,
                           percent=service.goal_percent, form=form, outcome=outcome), status


@bp.route("/circles")
def circles():
    week = (request.args.get("week") or platform_week(utcnow())).strip()
    return _render(week, RerunCirclesForm(formdata=None, week=week))


@bp.route("/circles/rerun", methods=["POST"])
def circles_rerun():
    from flask_login import current_user

    form = RerunCirclesForm()
    if not form.validate_on_submit():
        return _render(platform_week(utcnow()), form, status=400)
    try:
        outcome = service.rerun_assignment(current_user, form.week.data.strip())
    except ThriveError as exc:
        form.week.errors.append(exc.message)
        return _render(platform_week(utcnow()), form, status=400)
    return _render(outcome.period, form, outcome=outcome)


@bp.route("/circles/<int:circle_id>")
def circle(circle_id: int):
    try:
        row, members = service.circle(circle_id)
    except NotFound:
        abort(404)
    return render_template("admin/circle.html", circle=row, members=members)
