"""Home page and its status panel (page or HTMX fragment from one URL)."""
from __future__ import annotations

from flask_login import current_user, login_required

from ...services.progression import status_for
from ..htmx import page_or_fragment
from . import bp


@bp.route("/")
@login_required
def index():
    status = status_for(current_user.state, current_user.timezone)
    return page_or_fragment("home/index.html", "status_panel", status=status, learner=current_user)


@bp.route("/panels/status")
@login_required
def status_panel():
    status = status_for(current_user.state, current_user.timezone)
    return page_or_fragment("home/index.html", "status_panel", status=status, learner=current_user)
