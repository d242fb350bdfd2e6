"""Weekly goals on the learner pages (§6.2, §7): the goals panel of "Your Thrive Circle"."""
from flask import Blueprint

bp = Blueprint("goals", __name__)

from . import views  # noqa: E402,F401
