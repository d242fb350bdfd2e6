"""Recommended actions and nudges as the learner reads them: wording, icon and link (§7).

The services (:mod:`thrive.services.insights.recommendations`, ``journey``)
return data; this module words it with Flask-Babel and links every action to
where it can be done — an internal page (cheer → community, profile →
settings, goals → the goals panel), the rule's admin-set ``where_url``, or the
"How points work" page (``home.points``) anchored at the activity.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from thrive.services.points.registry import load_registry

from .i18n import gettext, lazy_gettext, lazy_pgettext, ngettext

#: activity type → (imperative title, "You haven't …" phrase, icon).
ACTION_TEXT = {
    "quiz_completed": (
        lazy_gettext("Complete a quiz"),
        lazy_pgettext("you haven't", "completed a quiz"), "🧠"),
    "project_created": (
        lazy_gettext("Start a new project"),
        lazy_pgettext("you haven't", "started a project"), "🛠️"),
    "project_updated": (
        lazy_gettext("Improve one of your projects"),
        lazy_pgettext("you haven't", "updated a project"), "✏️"),
    "project_published": (
        lazy_gettext("Publish a project"),
        lazy_pgettext("you haven't", "published a project"), "🚀"),
    "comment_posted": (
        lazy_gettext("Comment on someone's work"),
        lazy_pgettext("you haven't", "commented"), "💬"),
    "feedback_given": (
        lazy_gettext("Give feedback on a project"),
        lazy_pgettext("you haven't", "given feedback"), "🤝"),
    "reaction_given": (
        lazy_gettext("Cheer someone in the community feed"),
        lazy_pgettext("you haven't", "cheered anyone"), "👏"),
    "side_quest_completed": (
        lazy_gettext("Finish a side quest"),
        lazy_pgettext("you haven't", "finished a side quest"), "🗺️"),
    "battle_participated": (
        lazy_gettext("Join a battle"),
        lazy_pgettext("you haven't", "joined a battle"), "⚔️"),
    "event_attended": (
        lazy_gettext("Attend a live event"),
        lazy_pgettext("you haven't", "attended an event"), "📅"),
    "scavenger_hunt_completed": (
        lazy_gettext("Try a scavenger hunt"),
        lazy_pgettext("you haven't", "done a scavenger hunt"), "🔎"),
    "weekly_challenge_completed": (
        lazy_gettext("Take on the weekly challenge"),
        lazy_pgettext("you haven't", "done a weekly challenge"), "🏆"),
    "profile_completed": (
        lazy_gettext("Complete your profile"),
        lazy_pgettext("you haven't", "completed your profile"), "🪪"),
}

#: Imperative titles of activities that are never suggested but are explained on "How points work".
OTHER_TITLES = {
    "daily_login": lazy_gettext("Show up: visit Thrive"),
    "streak_bonus": lazy_gettext("Keep your streak going"),
    "weekly_goal_completed": lazy_gettext("Complete a weekly goal"),
    "circle_goal_completed": lazy_gettext("Reach your circle's goal together"),
    "battle_won": lazy_gettext("Win a battle"),
    "referral_converted": lazy_gettext("Bring a friend"),
    "onboarding_completed": lazy_gettext("Finish getting started"),
}

#: §4.2 categories as the learner reads them.
CATEGORY_LABELS = {
    "creation": lazy_gettext("Creation"),
    "learning": lazy_gettext("Learning"),
    "community": lazy_gettext("Community"),
    "participation": lazy_gettext("Participation"),
    "consistency": lazy_gettext("Consistency"),
    "challenge": lazy_gettext("Challenge"),
}

#: Internal pages where an activity is done in Thrive itself (endpoint, anchor).
INTERNAL = {"reaction_given": ("community.index", None), "profile_completed": ("settings.index", None)}


def category_label(key: str | None) -> str:
    return str(CATEGORY_LABELS.get(key or "", (key or "").title()))


def action_title(activity_type: str) -> str:
    text = ACTION_TEXT.get(activity_type)
    if text:
        return str(text[0])
    rule = load_registry().rules.get(activity_type)
    return rule.label if rule else activity_type.replace("_", " ").capitalize()


def activity_label(rule) -> str:
    """An activity of the registry as something to do ("Complete a quiz"); unknown types use the rule label."""
    other = OTHER_TITLES.get(rule.activity_type)
    return str(other) if other else action_title(rule.activity_type)


def action_icon(activity_type: str | None) -> str:
    icons = {"daily_login": "👋", "streak_bonus": "🔥", "weekly_goal_completed": "🎯", "circle_goal_completed": "🤝",
             "battle_won": "🏅", "referral_converted": "💌", "onboarding_completed": "🧭"}
    return ACTION_TEXT.get(activity_type or "", (None, None, icons.get(activity_type or "", "🎯")))[2]


def action_link(activity_type: str | None) -> str:
    """Where to do ``activity_type``: Thrive's own page, the rule's ``where_url``, else "How points work"."""
    if activity_type in INTERNAL:
        endpoint, anchor = INTERNAL[activity_type]
        return url_for(endpoint, _anchor=anchor)
    rule = load_registry().rules.get(activity_type or "")
    where = getattr(rule, "where_url", None) if rule else None
    if where:
        return where
    return url_for("home.points", _anchor=f"rule-{activity_type}" if activity_type else None)


@dataclass(frozen=True)
class ActionView:
    """One recommended action, worded: ``title`` (a link to ``link``), ``detail``, ``icon``."""

    key: str
    title: str
    detail: str
    icon: str
    link: str


def _reward(points: int) -> str:
    return ngettext("Worth %(num)s point.", "Worth %(num)s points.", points)


def recommendation_view(r) -> ActionView:
    """Word a :class:`~thrive.services.insights.recommendations.Recommendation`."""
    if r.reason == "streak":
        return ActionView(r.key, ngettext("Keep your %(num)s-day streak alive", "Keep your %(num)s-day streak alive",
                                          r.streak),
                          gettext("Any activity today counts."), "🔥", url_for("home.points"))
    if r.reason == "quest":   # a side quest that exists and is open to the learner (§10)
        if r.quest_started:
            title = gettext("Finish the side quest “%(quest)s”", quest=r.quest_title)
            left = ngettext("%(num)s more to go.", "%(num)s more to go.", r.remaining)
            return ActionView(r.key, title, f"{left} {_reward(r.reward)}", "🗺️", url_for("quests.index"))
        return ActionView(r.key, gettext("Start the side quest “%(quest)s”", quest=r.quest_title),
                          _reward(r.reward), "🗺️", url_for("quests.index"))
    if r.reason == "goal":
        goals_link = url_for("goals.panel")
        if r.goal_kind == "streak_days":
            when = gettext("Come back tomorrow") if r.active_today else gettext("Do any activity today")
            left = ngettext("%(num)s more day to go.", "%(num)s more days to go.", r.remaining)
            return ActionView(r.key, r.goal_title, f"{when}: {left} {_reward(r.reward)}", "🔥", goals_link)
        left = ngettext("%(num)s more to go.", "%(num)s more to go.", r.remaining)
        if r.goal_kind == "new_quiz_topics":
            hint = gettext("Complete a quiz on a topic you have not tried before.")
        elif r.activity_type:
            hint = action_title(r.activity_type) + "."
            if r.others:
                hint = ngettext("%(action)s (or %(num)s other activity that counts).",
                                "%(action)s (or one of %(num)s other activities that count).",
                                r.others, action=action_title(r.activity_type))
        else:
            hint = ""
        title = gettext("Finish “%(goal)s”", goal=r.goal_title)
        link = action_link(r.activity_type) if r.activity_type else goals_link
        return ActionView(r.key, title, " ".join(p for p in (left, hint, _reward(r.reward)) if p),
                          action_icon(r.activity_type), link)
    text = ACTION_TEXT.get(r.activity_type, (None, lazy_pgettext("you haven't", "done that"), "🎯"))
    if r.days_since is None:
        why = gettext("You haven't %(done)s yet.", done=text[1])
    else:
        why = ngettext("You haven't %(done)s for %(num)s day.", "You haven't %(done)s for %(num)s days.",
                       r.days_since, done=text[1])
    if r.quiet_category:
        why += " " + ngettext("No %(category)s points in the last %(num)s day.",
                              "No %(category)s points in the last %(num)s days.", r.recent_days,
                              category=category_label(r.quiet_category).lower())
    return ActionView(r.key, action_title(r.activity_type), why, action_icon(r.activity_type),
                      action_link(r.activity_type))


def nudge_message(nudge) -> str:
    """The journey nudge (:class:`~thrive.services.insights.journey.Nudge`) as a sentence."""
    category = category_label(nudge.category)
    action = action_title(nudge.activity_type)
    if nudge.points <= 0:
        spans = {"7": gettext("You haven't earned any %(category)s points in the last 7 days.",
                              category=category.lower()),
                 "30": gettext("You haven't earned any %(category)s points in the last 30 days.",
                               category=category.lower()),
                 "all": gettext("You haven't earned any %(category)s points so far.", category=category.lower())}
        return spans[nudge.window] + " " + gettext("A small step there: %(action)s.", action=action.lower())
    spans = {"7": ngettext("%(category)s is your quietest category in the last 7 days (%(num)s point).",
                           "%(category)s is your quietest category in the last 7 days (%(num)s points).",
                           nudge.points, category=category),
             "30": ngettext("%(category)s is your quietest category in the last 30 days (%(num)s point).",
                            "%(category)s is your quietest category in the last 30 days (%(num)s points).",
                            nudge.points, category=category),
             "all": ngettext("%(category)s is your quietest category so far (%(num)s point).",
                             "%(category)s is your quietest category so far (%(num)s points).",
                             nudge.points, category=category)}
    return spans[nudge.window] + " " + gettext("Why not %(action)s?", action=action[:1].lower() + action[1:])

