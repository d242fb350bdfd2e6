"""Home page and its status panel (page or HTMX fragment from one URL)."""
from __future__ import annotations

from flask_login import current_user, login_required

from ...services.progression import status_for
from ...timeutil import utcnow
from ..htmx import page_or_fragment
from . import bp
from .panels import home_panels


@bp.route("/")
@login_required
def index():
    now = utcnow()
    status = status_for(current_user.state, current_user.timezone, now)
    return page_or_fragment("home/index.html", "status_panel", status=status, learner=current_user,
                            panels=home_panels(current_user, now))


@bp.route("/panels/status")
@login_required
def status_panel():
    status = status_for(current_user.state, current_user.timezone)
    return page_or_fragment("home/index.html", "status_panel", status=status, learner=current_user)
