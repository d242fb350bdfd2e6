"""Notifications page, the header bell and the celebration modal endpoint (§7, §9)."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from . import views  # noqa: E402,F401
