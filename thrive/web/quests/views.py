"""Side quest pages: the quest board, starting a quest, the home panel (§7, §10).

- ``GET /quests`` — the board (in progress, available, completed, locked);
  as an HTMX fragment only the board.
- ``POST /quests/<id>/start`` — start a quest; HTMX gets the board back with a
  status line, a plain form post redirects to ``/quests`` with a flash.
- ``GET /quests/panel`` — the home panel of active quests ("2 / 3 quizzes"),
  also registered on "Your Thrive Circle".
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import flash, make_response, redirect, url_for
from flask_babel import gettext, npgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from thrive.services.errors import ThriveError
from thrive.services.points.registry import load_registry
from thrive.services.quests.board import active_quests, quest_board
from thrive.services.quests.progress import start_quest

from ...timeutil import utcnow
from ..home.panels import register_home_panel
from ..htmx import is_htmx, page_or_fragment
from ..i18n import day
from . import bp

#: activity type → its noun for a count ("2 / 3 quizzes"), agreeing with the count (npgettext, context "noun").
NOUNS: dict[str, Callable[[int], str]] = {
    "quiz_completed": lambda n: npgettext("noun", "quiz", "quizzes", n),
    "project_created": lambda n: npgettext("noun", "new project", "new projects", n),
    "project_updated": lambda n: npgettext("noun", "project update", "project updates", n),
    "project_published": lambda n: npgettext("noun", "published project", "published projects", n),
    "comment_posted": lambda n: npgettext("noun", "comment", "comments", n),
    "feedback_given": lambda n: npgettext("noun", "piece of feedback", "pieces of feedback", n),
    "reaction_given": lambda n: npgettext("noun", "cheer", "cheers", n),
    "daily_login": lambda n: npgettext("noun", "daily visit", "daily visits", n),
    "battle_participated": lambda n: npgettext("noun", "battle", "battles", n),
    "battle_won": lambda n: npgettext("noun", "battle won", "battles won", n),
    "event_attended": lambda n: npgettext("noun", "event", "events", n),
    "scavenger_hunt_completed": lambda n: npgettext("noun", "scavenger hunt", "scavenger hunts", n),
    "weekly_challenge_completed": lambda n: npgettext("noun", "weekly challenge", "weekly challenges", n),
    "side_quest_completed": lambda n: npgettext("noun", "side quest", "side quests", n),
}

#: Why a quest could not be started, as the learner reads it.
START_ERRORS = {
    "quest_locked": _l("This quest is still locked."),
    "quest_closed": _l("This quest is not open right now."),
    "already_started": _l("You have already started this quest."),
    "already_completed": _l("You have already completed this quest."),
    "unknown_quest": _l("That quest does not exist (any more)."),
}

#: Quest difficulties and repeats (stored keys) as the learner reads them.
DIFFICULTIES = {"beginner": _l("Beginner"), "intermediate": _l("Intermediate"), "advanced": _l("Advanced")}


@bp.app_template_filter("activity_noun")
def activity_noun(activity_type: str, count: int = 2) -> str:
    """The noun for ``count`` activities of a type ("quiz"/"quizzes"), translated; unknown types read "activities"."""
    noun = NOUNS.get(activity_type)
    return noun(count) if noun else npgettext("noun", "activity", "activities", count)


@bp.app_template_filter("difficulty_label")
def difficulty_label(difficulty: str) -> str:
    """A quest difficulty key ("beginner") in the reader's language; unknown keys as stored."""
    return str(DIFFICULTIES.get(difficulty, difficulty))


@bp.app_template_filter("nice_date")
def nice_date(instant: datetime) -> str:
    """A UTC instant as a date in the reader's locale ("Dec 2, 2026" / "2 dic 2026", Babel medium)."""
    return day(instant)


def _board_context(message: str | None = None, error: bool = False) -> dict:
    return {"board": quest_board(current_user, utcnow()), "registry": load_registry(), "message": message,
            "message_error": error}


@bp.route("/quests")
@login_required
def index():
    """The quest board; the ``quest_board`` block alone for HTMX."""
    return page_or_fragment("quests/index.html", "quest_board", **_board_context())


@bp.post("/quests/<int:quest_id>/start")
@login_required
def start(quest_id: int):
    """Start a quest (CSRF-checked form or HTMX post)."""
    try:
        start_quest(current_user.id, quest_id)
        message, error = gettext("Quest started. Activity from now on counts toward it."), False
    except ThriveError as exc:
        message, error = str(START_ERRORS.get(exc.code, gettext("This quest cannot be started."))), True
    if is_htmx():
        return page_or_fragment("quests/index.html", "quest_board", **_board_context(message, error))
    flash(message, "error" if error else "success")
    return redirect(url_for("quests.index"))


def quests_panel_context(learner, now: datetime) -> dict:
    """Context of ``home/_quests_panel.html``: the learner's active quests at ``now`` (UTC)."""
    return {"quests": active_quests(learner.id, now)}


register_home_panel("quests", "home/_quests_panel.html", quests_panel_context, order=35)


@bp.route("/quests/panel")
@login_required
def panel():
    """The home panel of active quests (HTMX polling), or the quest board page."""
    if not is_htmx():
        return redirect(url_for("quests.index"))
    body = render_block("home/_quests_panel.html", "quests_panel",
                        ctx=quests_panel_context(current_user, utcnow()))
    response = make_response(body)
    response.vary.add("HX-Request")
    return response
