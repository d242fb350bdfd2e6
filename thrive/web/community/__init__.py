"""Community pages (§7, §8): stats, feed, following, discover, cheers, follows and public profiles."""
from flask import Blueprint

bp = Blueprint("community", __name__)

from . import views  # noqa: E402,F401

# isort: split
from . import reports  # noqa: E402,F401  (feed reports, §11 moderation)

# isort: split
from . import feed_markup, people  # noqa: E402,F401  (Jinja globals: the feed's markup, person cards)
