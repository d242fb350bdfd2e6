"""Achievements on the learner pages (§7, §10): ``/achievements`` and badges on profiles."""
from flask import Blueprint

bp = Blueprint("achievements", __name__)

from . import views  # noqa: E402,F401
