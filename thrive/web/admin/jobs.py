"""Admin → jobs (§11, §6.3): job runs, run now (same locked service as the scheduler), missed windows."""
from __future__ import annotations

from flask import render_template

from . import bp
from .nav import ADMINS, NAV, NavItem

NAV.append(NavItem("admin.jobs", "Jobs", ADMINS))


@bp.route("/jobs")
def jobs():
    return render_template("admin/jobs.html")
