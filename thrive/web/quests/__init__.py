"""Side quests on the learner pages (§7, §10): ``/quests`` and the home panel of active quests."""
from flask import Blueprint

bp = Blueprint("quests", __name__)

from . import views  # noqa: E402,F401
