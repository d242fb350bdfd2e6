"""The Thrive Circle panel on "Your Thrive Circle" (§6.1, §7): registers the home panel ``circle``.

Circle goals are settled by the award path itself (``thrive.services.weekly.circles.goal.settle_due_goals``),
not by this blueprint.
"""
from flask import Blueprint

bp = Blueprint("circles", __name__)

from . import markup, views  # noqa: E402,F401
