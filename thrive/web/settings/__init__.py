"""Settings: display name, time zone, topics, privacy switches, notification preferences (§7, §8.4, §9)."""
from flask import Blueprint

bp = Blueprint("settings", __name__)

from . import views  # noqa: E402,F401
