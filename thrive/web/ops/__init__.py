"""Operations endpoints (§15): ``/healthz``, ``/readyz`` and ``/metrics``."""
from flask import Blueprint

bp = Blueprint("ops", __name__)

from . import views  # noqa: E402,F401
