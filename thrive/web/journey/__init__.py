"""My Journey: the learner's own ledger and points by category (§7)."""
from flask import Blueprint

bp = Blueprint("journey", __name__)

from . import views  # noqa: E402,F401
