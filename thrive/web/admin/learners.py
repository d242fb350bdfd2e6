"""Admin → learners (§11): search, a learner's page; adjustments, bulk awards, status and staff roles."""
from __future__ import annotations

from flask import abort, render_template, request

from thrive.extensions import db
from thrive.models import Learner

from . import bp
from .nav import NAV, STAFF, NavItem, allow_moderators

NAV.append(NavItem("admin.learners", "Learners", STAFF))
allow_moderators("admin.learners", "admin.learner")


@bp.route("/learners")
def learners():
    return render_template("admin/learners.html", q=request.args.get("q", ""), results=[])


@bp.route("/learners/<int:learner_id>")
def learner(learner_id: int):
    row = db.session.get(Learner, learner_id)
    if row is None:
        abort(404)
    return render_template("admin/learner.html", learner=row)
