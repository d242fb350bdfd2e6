"""Side quest pages: the quest board, starting a quest, the home panel (§7, §10).

- ``GET /quests`` — the board (in progress, available, completed, locked);
  as an HTMX fragment only the board.
- ``POST /quests/<id>/start`` — start a quest; HTMX gets the board back with a
  status line, a plain form post redirects to ``/quests`` with a flash.
- ``GET /quests/panel`` — the home panel of active quests ("2 / 3 quizzes"),
  also registered on "Your Thrive Circle".
"""
from __future__ import annotations

from datetime import datetime

from flask import flash, make_response, redirect, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from thrive.services.errors import ThriveError
from thrive.services.points.registry import load_registry
from thrive.services.quests.board import active_quests, quest_board
from thrive.services.quests.progress import start_quest

from ...timeutil import as_utc, utcnow
from ..home.panels import register_home_panel
from ..htmx import is_htmx, page_or_fragment
from . import bp

#: activity type → (singular, plural) noun for progress lines ("2 / 3 quizzes").
NOUNS: dict[str, tuple[str, str]] = {
    "quiz_completed": ("quiz", "quizzes"),
    "project_created": ("new project", "new projects"),
    "project_updated": ("project update", "project updates"),
    "project_published": ("published project", "published projects"),
    "comment_posted": ("comment", "comments"),
    "feedback_given": ("piece of feedback", "pieces of feedback"),
    "reaction_given": ("cheer", "cheers"),
    "daily_login": ("daily visit", "daily visits"),
    "battle_participated": ("battle", "battles"),
    "battle_won": ("battle won", "battles won"),
    "event_attended": ("event", "events"),
    "scavenger_hunt_completed": ("scavenger hunt", "scavenger hunts"),
    "weekly_challenge_completed": ("weekly challenge", "weekly challenges"),
    "side_quest_completed": ("side quest", "side quests"),
}

#: Why a quest could not be started, as the learner reads it.
START_ERRORS = {
    "quest_locked": "This quest is still locked.",
    "quest_closed": "This quest is not open right now.",
    "already_started": "You have already started this quest.",
    "already_completed": "You have already completed this quest.",
    "unknown_quest": "That quest does not exist (any more).",
}


@bp.app_template_filter("activity_noun")
def activity_noun(activity_type: str, count: int = 2) -> str:
    """The noun for ``count`` activities of a type ("quiz"/"quizzes"); unknown types read "activities"."""
    one, many = NOUNS.get(activity_type, ("activity", "activities"))
    return one if count == 1 else many


@bp.app_template_filter("nice_date")
def nice_date(instant: datetime) -> str:
    """A UTC instant as a short date ("2 Dec 2026")."""
    value = as_utc(instant)
    return f"{value.day} {value:%b %Y}"


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
        message, error = "Quest started. Activity from now on counts toward it.", False
    except ThriveError as exc:
        message, error = START_ERRORS.get(exc.code, exc.message), True
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
