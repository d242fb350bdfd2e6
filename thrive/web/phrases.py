"""Sentences a learner reads about activity: feed items and groups, circle activity (§7, §8.1).

Services return data (activity type, topic, tier, counts); this module turns
them into translated text with Flask-Babel — ``gettext`` for one sentence,
``ngettext`` for every count — so the same data reads well in English and
Spanish. Never an amount of points about someone else (§1.3).
"""
from __future__ import annotations

from collections.abc import Callable

from .i18n import gettext, lazy_gettext, ngettext, npgettext, pgettext

#: activity type → (one: "completed a quiz", many: n → "completed 3 quizzes", takes a topic).
ActivityPhrase = tuple[Callable[[], str], Callable[[int], str], bool]


def _p(one, many, topic: bool = False) -> ActivityPhrase:
    return (one, many, topic)


ACTIVITY_PHRASES: dict[str, ActivityPhrase] = {
    "quiz_completed": _p(lambda: gettext("completed a quiz"),
                         lambda n: ngettext("completed %(num)s quiz", "completed %(num)s quizzes", n), True),
    "project_created": _p(lambda: gettext("created a project"),
                          lambda n: ngettext("created %(num)s project", "created %(num)s projects", n), True),
    "project_updated": _p(lambda: gettext("updated a project"),
                          lambda n: ngettext("updated %(num)s project", "updated %(num)s projects", n), True),
    "project_published": _p(lambda: gettext("published a project"),
                            lambda n: ngettext("published %(num)s project", "published %(num)s projects", n), True),
    "comment_posted": _p(lambda: gettext("joined a discussion"),
                         lambda n: ngettext("joined %(num)s discussion", "joined %(num)s discussions", n), True),
    "feedback_given": _p(lambda: gettext("gave feedback to a peer"),
                         lambda n: ngettext("gave feedback %(num)s time", "gave feedback %(num)s times", n), True),
    "streak_bonus": _p(lambda: gettext("kept their streak going"),
                       lambda n: ngettext("kept their streak going for %(num)s day",
                                          "kept their streak going for %(num)s days", n)),
    "weekly_goal_completed": _p(lambda: gettext("completed a weekly goal"),
                                lambda n: ngettext("completed %(num)s weekly goal", "completed %(num)s weekly goals",
                                                   n)),
    "circle_goal_completed": _p(lambda: gettext("helped their circle reach its goal"),
                                lambda n: ngettext("helped their circle reach %(num)s goal",
                                                   "helped their circle reach %(num)s goals", n)),
    "side_quest_completed": _p(lambda: gettext("completed a side quest"),
                               lambda n: ngettext("completed %(num)s side quest", "completed %(num)s side quests", n),
                               True),
    "battle_participated": _p(lambda: gettext("took part in a battle"),
                              lambda n: ngettext("took part in %(num)s battle", "took part in %(num)s battles", n),
                              True),
    "battle_won": _p(lambda: gettext("won a battle"),
                     lambda n: ngettext("won %(num)s battle", "won %(num)s battles", n), True),
    "weekly_challenge_completed": _p(lambda: gettext("completed the weekly challenge"),
                                     lambda n: ngettext("completed %(num)s weekly challenge",
                                                        "completed %(num)s weekly challenges", n)),
    "event_attended": _p(lambda: gettext("attended an event"),
                         lambda n: ngettext("attended %(num)s event", "attended %(num)s events", n), True),
    "scavenger_hunt_completed": _p(lambda: gettext("finished a scavenger hunt"),
                                   lambda n: ngettext("finished %(num)s scavenger hunt",
                                                      "finished %(num)s scavenger hunts", n), True),
    "referral_converted": _p(lambda: gettext("brought a friend to the community"),
                             lambda n: ngettext("brought %(num)s friend to the community",
                                                "brought %(num)s friends to the community", n)),
    "profile_completed": _p(lambda: gettext("completed their profile"), lambda n: gettext("completed their profile")),
    "onboarding_completed": _p(lambda: gettext("finished onboarding"), lambda n: gettext("finished onboarding")),
    "achievement_earned": _p(lambda: gettext("earned an achievement"),
                             lambda n: ngettext("earned %(num)s achievement", "earned %(num)s achievements", n)),
    "special_event": _p(lambda: gettext("took part in a special event"),
                        lambda n: ngettext("took part in %(num)s special event", "took part in %(num)s special events",
                                           n), True),
}

#: activity type → what several people did, agreeing with their number: npgettext (context "people") with the
#: same English both ways and, in Spanish, "completó" (1 person) / "completaron" (2 or more) — issue 11.
PEOPLE_PHRASES: dict[str, Callable[[int], str]] = {
    "quiz_completed": lambda n: npgettext("people", "completed a quiz", "completed a quiz", n),
    "project_created": lambda n: npgettext("people", "created a project", "created a project", n),
    "project_updated": lambda n: npgettext("people", "updated a project", "updated a project", n),
    "project_published": lambda n: npgettext("people", "published a project", "published a project", n),
    "comment_posted": lambda n: npgettext("people", "joined a discussion", "joined a discussion", n),
    "feedback_given": lambda n: npgettext("people", "gave feedback to a peer", "gave feedback to a peer", n),
    "streak_bonus": lambda n: npgettext("people", "kept their streak going", "kept their streak going", n),
    "weekly_goal_completed": lambda n: npgettext("people", "completed a weekly goal", "completed a weekly goal", n),
    "circle_goal_completed": lambda n: npgettext("people", "helped their circle reach its goal",
                                                 "helped their circle reach its goal", n),
    "side_quest_completed": lambda n: npgettext("people", "completed a side quest", "completed a side quest", n),
    "battle_participated": lambda n: npgettext("people", "took part in a battle", "took part in a battle", n),
    "battle_won": lambda n: npgettext("people", "won a battle", "won a battle", n),
    "weekly_challenge_completed": lambda n: npgettext("people", "completed the weekly challenge",
                                                      "completed the weekly challenge", n),
    "event_attended": lambda n: npgettext("people", "attended an event", "attended an event", n),
    "scavenger_hunt_completed": lambda n: npgettext("people", "finished a scavenger hunt",
                                                    "finished a scavenger hunt", n),
    "referral_converted": lambda n: npgettext("people", "brought a friend to the community",
                                              "brought a friend to the community", n),
    "profile_completed": lambda n: npgettext("people", "completed their profile", "completed their profile", n),
    "onboarding_completed": lambda n: npgettext("people", "finished onboarding", "finished onboarding", n),
    "achievement_earned": lambda n: npgettext("people", "earned an achievement", "earned an achievement", n),
    "special_event": lambda n: npgettext("people", "took part in a special event", "took part in a special event",
                                         n),
}

#: activity type → what the reader did, after "You" (pgettext, context "you"): English as for anyone,
#: Spanish in the second person ("Tú completaste…", never "Tú completó…") — issue 11.
YOU_PHRASES: dict[str, Callable[[], str]] = {
    "quiz_completed": lambda: pgettext("you", "completed a quiz"),
    "project_created": lambda: pgettext("you", "created a project"),
    "project_updated": lambda: pgettext("you", "updated a project"),
    "project_published": lambda: pgettext("you", "published a project"),
    "comment_posted": lambda: pgettext("you", "joined a discussion"),
    "feedback_given": lambda: pgettext("you", "gave feedback to a peer"),
    "streak_bonus": lambda: pgettext("you", "kept your streak going"),
    "weekly_goal_completed": lambda: pgettext("you", "completed a weekly goal"),
    "circle_goal_completed": lambda: pgettext("you", "helped your circle reach its goal"),
    "side_quest_completed": lambda: pgettext("you", "completed a side quest"),
    "battle_participated": lambda: pgettext("you", "took part in a battle"),
    "battle_won": lambda: pgettext("you", "won a battle"),
    "weekly_challenge_completed": lambda: pgettext("you", "completed the weekly challenge"),
    "event_attended": lambda: pgettext("you", "attended an event"),
    "scavenger_hunt_completed": lambda: pgettext("you", "finished a scavenger hunt"),
    "referral_converted": lambda: pgettext("you", "brought a friend to the community"),
    "profile_completed": lambda: pgettext("you", "completed your profile"),
    "onboarding_completed": lambda: pgettext("you", "finished onboarding"),
    "achievement_earned": lambda: pgettext("you", "earned an achievement"),
    "special_event": lambda: pgettext("you", "took part in a special event"),
}

ANONYMOUS = lazy_gettext("A learner")


def actor_name(actor) -> str:
    """The name shown for a feed actor: their display name, or "A learner" when the profile is private (§8.4)."""
    return actor.display_name if actor.shares_profile else str(ANONYMOUS)


def _unknown(activity_type: str):
    from thrive.services.points.registry import load_registry

    rule = load_registry().rules.get(activity_type)
    label = (rule.label if rule else activity_type.replace("_", " ")).strip()
    return label[:1].lower() + label[1:]


def activity_predicate(activity_type: str, topic: str | None = None, you: bool = False) -> str:
    """What someone did, after their name: "completed a quiz on DDD"; unknown types read from the rule label.

    ``you=True`` words it after "You" (the reader themself): the same in English, the second person in Spanish.
    """
    phrase = ACTIVITY_PHRASES.get(activity_type)
    if phrase is None:
        return (pgettext("you", "took part: %(activity)s", activity=_unknown(activity_type)) if you
                else gettext("took part: %(activity)s", activity=_unknown(activity_type)))
    if activity_type == "achievement_earned" and topic:   # the topic is the badge's name (§10)
        return (pgettext("you", "earned %(badge)s", badge=topic) if you
                else gettext("earned %(badge)s", badge=topic))
    text = YOU_PHRASES[activity_type]() if you else phrase[0]()
    if topic and phrase[2]:
        return gettext("%(action)s on %(topic)s", action=text, topic=topic)
    return text


def tier_predicate(tier) -> str:
    """ "reached Spark!" (the emoji is decoration, added by the template)."""
    return gettext("reached %(tier)s!", tier=tier.name)


def item_predicate(item) -> str:
    """The sentence after the actor's name for one feed item (:class:`~thrive.services.community.feed.FeedItem`)."""
    if item.kind == "tier_up":
        return tier_predicate(item.tier)
    return activity_predicate(item.activity_type, item.topic)


def group_sentence(group) -> str:
    """The headline of a :class:`~thrive.services.community.feed.FeedGroup`.

    - a circle goal: "Beacon Circle B reached its goal together";
    - one learner (the template puts their name first): "completed 3 quizzes";
    - several: "3 people completed a quiz" ("… in your circle …" when all are circle peers).
    """
    if group.kind == "circle_goal":
        return gettext("%(circle)s reached its goal together", circle=group.circle_name or gettext("A circle"))
    if group.actor is not None:
        if group.kind == "tier_up":
            return tier_predicate(group.tier)
        phrase = ACTIVITY_PHRASES.get(group.activity_type)
        if phrase is None:
            return ngettext("took part %(num)s time: %(activity)s", "took part %(num)s times: %(activity)s",
                            group.count, activity=_unknown(group.activity_type))
        return phrase[1](group.count)
    what = people_predicate(group)
    if group.in_circle:
        return ngettext("%(num)s person in your circle %(action)s", "%(num)s people in your circle %(action)s",
                        group.people, action=what)
    return ngettext("%(num)s person %(action)s", "%(num)s people %(action)s", group.people, action=what)


def people_predicate(group) -> str:
    """What the ``group.people`` people of a group did, the verb agreeing with their number (issue 11).

    English reads the same for 1 and 2+ ("completed a quiz"); Spanish does not ("completó" / "completaron"),
    so every predicate goes through ``npgettext`` over the number of people, never over the activity count.
    """
    people = int(group.people or 0)
    if group.kind == "tier_up":
        return npgettext("people", "reached %(tier)s!", "reached %(tier)s!", people, tier=group.tier.name)
    phrase = PEOPLE_PHRASES.get(group.activity_type)
    if phrase is None:
        return npgettext("people", "took part: %(activity)s", "took part: %(activity)s", people,
                         activity=_unknown(group.activity_type))
    return phrase(people)


def community_message(stats) -> str:
    """A warm, non-comparative line for the community stats panel (§7), from its counts and week."""
    if stats.active_learners == 0:
        return gettext("A quiet start to the week — your first step could spark the whole community.")
    if stats.active_learners == 1:
        return gettext("One learner has already shown up this week. Join them!")
    if stats.tier_ups:
        return gettext("New tiers reached this week — cheer on the people in the feed!")
    lines = (
        lambda: gettext("Every bit of participation counts. Keep showing up!"),
        lambda: gettext("Learning is better together — say hi in the feed."),
        lambda: gettext("Small steps, every day, add up. You're part of something."),
    )
    return lines[int(stats.week[-2:]) % len(lines)]()
