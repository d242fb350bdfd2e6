"""The admin area (§11): one ``admin`` blueprint at ``/admin``, one guard, a module per section.

Access (STYLE.md: one ``before_request`` guard, no per-route decorators):
anonymous visitors are sent to sign-in (HTMX requests get ``HX-Redirect``);
signed-in non-staff get 403; admins reach everything; moderators only the
endpoints and methods listed in :data:`thrive.web.admin.nav.MODERATOR_ENDPOINTS`.

Each section is a module imported below with one line; it adds its routes to
``bp`` and its navigation entry to :data:`thrive.web.admin.nav.NAV`.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from .nav import moderator_may, nav_for

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def staff_only():
    """The admin area's single access check (§11, §15: 403 for non-staff)."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    role = current_user.staff_role
    if role == "admin":
        return None
    if role == "moderator" and moderator_may(request.endpoint, request.method):
        return None
    abort(403)


@bp.context_processor
def admin_context():
    return {"admin_nav": nav_for(current_user.staff_role if current_user.is_authenticated else None)}


# Sections: one line each (order = navigation order).
# isort: off
from . import dashboard  # noqa: E402,F401
from . import learners  # noqa: E402,F401
from . import learner_data  # noqa: E402,F401
from . import circles  # noqa: E402,F401
from . import jobs  # noqa: E402,F401
from . import api_keys  # noqa: E402,F401
from . import audit  # noqa: E402,F401
from . import rules  # noqa: E402,F401
from . import ladder  # noqa: E402,F401
from . import goal_templates  # noqa: E402,F401
from . import moderation  # noqa: E402,F401
from . import config_data  # noqa: E402,F401
from . import quests  # noqa: E402,F401
from . import achievements  # noqa: E402,F401
# isort: on
