"""Admin → dashboard (§11): aggregates only, each figure beside the previous period."""
from __future__ import annotations

from flask import render_template

from . import bp
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.index", "Dashboard", ADMINS))


@bp.route("/")
def index():
    return render_template("admin/dashboard.html")
