"""Achievement pages: the learner's badges, and how each shows on their profile (§7, §10).

- ``GET /achievements`` — earned (with date, rarity and visibility), in
  progress ("7 / 10"), locked, and secret ("???"); the ``achievement_board``
  block alone for HTMX.
- ``POST /achievements/<id>/visibility`` — ``visibility`` = ``shown``,
  ``featured`` (at most 3) or ``private``; HTMX gets the board back, a plain
  post redirects with a flash.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from thrive.services.achievements.grants import MAX_FEATURED, set_visibility
from thrive.services.achievements.reading import achievement_board
from thrive.services.errors import ThriveError

from ...timeutil import utcnow
from ..htmx import is_htmx, page_or_fragment
from . import bp

VISIBILITY_MESSAGES = {
    "shown": _l("The badge shows on your profile."),
    "featured": _l("The badge is featured on your profile."),
    "private": _l("The badge is private: only you can see it."),
}

#: Why the visibility could not change (service error codes), as the learner reads it.
VISIBILITY_ERRORS = {
    "not_held": _l("You do not hold that badge."),
    "invalid_visibility": _l("Choose Feature, Show or Private."),
}


def _context(message: str | None = None, error: bool = False) -> dict:
    return {"board": achievement_board(current_user.id, utcnow()), "message": message, "message_error": error}


@bp.route("/achievements")
@login_required
def index():
    """The learner's achievements."""
    return page_or_fragment("achievements/index.html", "achievement_board", **_context())


@bp.post("/achievements/<int:achievement_id>/visibility")
@login_required
def visibility(achievement_id: int):
    """Feature, show or hide one of the learner's badges on their profile."""
    wanted = request.form.get("visibility", "")
    try:
        set_visibility(current_user.id, achievement_id, wanted)
        message, error = str(VISIBILITY_MESSAGES[wanted]), False
    except ThriveError as exc:
        if exc.code == "too_many_featured":
            message = ngettext("You can feature at most %(num)s badge: show or hide one first.",
                               "You can feature at most %(num)s badges: show or hide one of them first.", MAX_FEATURED)
        else:
            message = str(VISIBILITY_ERRORS.get(exc.code, _l("That change could not be made.")))
        error = True
    if is_htmx():
        return page_or_fragment("achievements/index.html", "achievement_board", **_context(message, error))
    flash(message, "error" if error else "success")
    return redirect(url_for("achievements.index"))
