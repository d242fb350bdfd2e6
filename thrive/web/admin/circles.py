"""Admin → circles (§11, §6.1): this week's and past weeks' circles, members, re-run an assignment."""
from __future__ import annotations

from flask import render_template

from . import bp
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.circles", "Circles", ADMINS))


@bp.route("/circles")
def circles():
    return render_template("admin/circles.html")
