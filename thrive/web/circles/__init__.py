"""The Thrive Circle panel on "Your Thrive Circle" (§6.1, §7).

Registers the home panel ``circle`` and, for every app using this blueprint,
a ``teardown_appcontext`` step that settles circle goals reached by
transactions committed in that app context (requests, CLI commands, jobs) —
see :func:`thrive.services.weekly.circles.settle_pending`.
"""
from flask import Blueprint

bp = Blueprint("circles", __name__)


def _settle_after_context(exc):
    """Award circle goals reached during this app context (after its transactions committed)."""
    from flask import current_app

    from thrive.services.weekly.circles import settle_pending

    try:
        settle_pending()
    except Exception:  # noqa: BLE001 — never break the response; settle_circle_goals catches up later
        current_app.logger.exception("settling circle goals failed")


@bp.record_once
def _register_teardown(state):
    state.app.teardown_appcontext(_settle_after_context)


from . import views  # noqa: E402,F401
