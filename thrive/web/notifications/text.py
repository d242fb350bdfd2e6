"""Notifications as the learner reads them: rendered at display time from ``type`` + ``data`` (§9).

Services store a notification's type and data (and an English title, written
for logs and for rows created before ``data`` existed). This module words every
kind of §9 in the request's locale at display time — from ``data`` when the row
has it, else a general sentence of the same kind — so a Spanish reader never
sees the stored English. The stored title is shown only for free text a person
wrote: an admin's adjustment message (``points_adjusted``) and unknown types.
It links each row to its subject — tier-up and level-up → your progress, new
follower → their profile, weekly goal → the goals panel, circle → the circle
panel, quest → the quest board, badge → achievements, adjustment → journey —
and collapses bursts: consecutive level-ups read as one row "Level 2 → 11".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import url_for
from flask_babel import format_decimal, gettext, ngettext
from sqlalchemy import or_, select

from thrive.extensions import db
from thrive.models import Achievement, Circle, Learner, Quest, WeeklyGoal
from thrive.services.community.visibility import is_profile_public
from thrive.services.points.registry import load_registry


@dataclass
class NotificationView:
    """One row of the list: ``ids`` of the notifications it stands for (several when collapsed)."""

    id: int
    ids: list[int]
    type: str
    title: str
    body: str | None
    link: str | None
    created_at: object
    read_at: object
    extra: dict = field(default_factory=dict)


def _lookups(items) -> dict:
    circle_ids = {(n.data or {}).get("circle_id") for n in items if n.type.startswith("circle")} - {None}
    goal_ids = {(n.data or {}).get("goal_id") for n in items if n.type == "weekly_goal_completed"} - {None}
    usernames = {(n.data or {}).get("follower") for n in items if n.type == "new_follower"} - {None}
    actor_ids = {(n.data or {}).get("actor_id") for n in items if n.type == "new_follower"} - {None}
    quest_ids = {(n.data or {}).get("quest_id") for n in items if n.type.startswith("side_quest")} - {None}
    badge_ids = {(n.data or {}).get("achievement_id") for n in items if n.type == "achievement_earned"} - {None}
    out = {"circles": {}, "goals": {}, "people": {}, "quests": {}, "badges": {}}
    if quest_ids:
        out["quests"] = dict(db.session.execute(select(Quest.id, Quest.title).where(Quest.id.in_(quest_ids))).all())
    if badge_ids:
        out["badges"] = {i: (name, icon) for i, name, icon in db.session.execute(
            select(Achievement.id, Achievement.name, Achievement.icon).where(Achievement.id.in_(badge_ids))).all()}
    if circle_ids:
        out["circles"] = dict(db.session.execute(select(Circle.id, Circle.name).where(Circle.id.in_(circle_ids))).all())
    if goal_ids:
        out["goals"] = dict(db.session.execute(
            select(WeeklyGoal.id, WeeklyGoal.title).where(WeeklyGoal.id.in_(goal_ids))).all())
    if usernames or actor_ids:
        # names go through the one visibility rule (a learner who stopped sharing reads "A learner", issue 10)
        for lid, username, display, share, active in db.session.execute(
                select(Learner.id, Learner.username, Learner.display_name, Learner.share_profile,
                       Learner.is_active_account)
                .where(or_(Learner.username.in_(usernames), Learner.id.in_(actor_ids)))).all():
            person = (display, is_profile_public(share, active), username)
            out["people"][username] = out["people"][lid] = person
    return out


def _levels(n) -> list[int]:
    levels = (n.data or {}).get("levels") or []
    return [int(x) for x in levels if isinstance(x, int | float | str) and str(x).isdigit()]


def _signed(points: int) -> str:
    """A signed whole number in the locale's grouping ("+1,200" / "-50")."""
    return ("+" if points > 0 else "") + format_decimal(points)


def _plus_points(points: int) -> str | None:
    """ "+50 points" in the reader's language (None for no points)."""
    if not points:
        return None
    return ngettext("+%(points)s point", "+%(points)s points", points, points=format_decimal(points))


def _word(n, look: dict) -> tuple[str, str | None, str | None]:
    """(title, body, link) of one notification, in the request's locale (rows without data read generally)."""
    data = n.data or {}
    progress = url_for("home.index", _anchor="status-panel")
    t = n.type
    if t == "tier_up":
        if not data.get("tier"):
            return gettext("You reached a new tier!"), None, progress
        tier = load_registry().tier(data["tier"])   # names and taglines are the ladder's data, shown as entered
        return gettext("You reached %(tier)s!", tier=tier.name), tier.tagline, progress
    if t == "level_up":
        levels = _levels(n)
        if not levels:
            return gettext("You reached a new level!"), None, progress
        up = ngettext("Up %(num)s level", "Up %(num)s levels", len(levels)) if len(levels) > 1 else None
        return gettext("Level %(level)s!", level=max(levels)), up, progress
    if t == "streak_milestone":
        if not data.get("days"):
            return gettext("A new streak milestone!"), None, progress
        return ngettext("%(num)s-day streak!", "%(num)s-day streak!", int(data["days"])), None, progress
    if t == "streak_at_risk":
        body = gettext("One activity today keeps it going.")
        if not data.get("streak"):
            return gettext("Your streak is waiting for you"), body, progress
        return (ngettext("Your %(num)s-day streak is waiting for you", "Your %(num)s-day streak is waiting for you",
                         int(data["streak"])), body, progress)
    if t == "grace_day_used":
        if not data.get("used"):
            return gettext("A grace day kept your streak alive"), None, progress
        used, left = int(data["used"]), int(data.get("grace_days") or 0)
        title = ngettext("A grace day kept your streak alive", "%(num)s grace days kept your streak alive", used)
        body = (ngettext("%(num)s grace day left.", "%(num)s grace days left.", left) if left
                else gettext("None left — they come back with every 7-day streak."))
        return title, body, progress
    if t == "weekly_goal_completed":
        goal = look["goals"].get(data.get("goal_id"))
        title = gettext("Weekly goal complete: %(goal)s", goal=goal) if goal else gettext("Weekly goal complete")
        body = ngettext("+%(num)s point. Nicely done!", "+%(num)s points. Nicely done!", int(data.get("reward") or 0)) \
            if data.get("reward") else None
        return title, body, url_for("goals.panel")
    if t == "circle_goal_completed":
        name = look["circles"].get(data.get("circle_id")) or gettext("Your Thrive Circle")
        body = ngettext("Everyone's showing up paid off: +%(num)s point for taking part.",
                        "Everyone's showing up paid off: +%(num)s points for taking part.",
                        int(data.get("points") or 0)) if data.get("points") else None
        return gettext("%(circle)s reached its goal together!", circle=name), body, url_for("circles.panel")
    if t == "circle_assigned":
        name = look["circles"].get(data.get("circle_id"))
        title = (gettext("Meet your Thrive Circle: %(circle)s", circle=name) if name
                 else gettext("Meet your Thrive Circle"))
        body = gettext("Say hello to the learners at a similar stage to you this week.")
        return title, body, url_for("circles.panel")
    if t == "new_follower":
        person = look["people"].get(data.get("actor_id", data.get("follower")))
        if person and person[1]:
            return (gettext("%(name)s started following you", name=person[0]), None,
                    url_for("community.profile", username=person[2]))
        return gettext("A learner started following you"), None, None
    if t == "weekly_recap":
        body = gettext("Thanks for showing up. A fresh week and new goals are waiting for you.")
        if "points" not in data:
            return gettext("Your weekly recap is here"), body, url_for("journey.index", days="7")
        points, goals = int(data.get("points") or 0), int(data.get("goals") or 0)
        title = ngettext("Last week you earned %(points)s point", "Last week you earned %(points)s points", points,
                         points=format_decimal(points))
        if goals:
            title += " " + ngettext("and completed %(num)s goal", "and completed %(num)s goals", goals)
        return title, body, url_for("journey.index", days="7")
    if t in ("side_quest_available", "side_quest_completed"):
        # the quest's title is admin-entered data: shown as entered (from the quest, else as stored in data)
        quest = look["quests"].get(data.get("quest_id")) or data.get("quest")
        if t == "side_quest_available":
            title = gettext("New side quest: %(quest)s", quest=quest) if quest else gettext("A new side quest is open")
            return title, None, url_for("quests.index")
        title = gettext("Side quest complete: %(quest)s", quest=quest) if quest else gettext("Side quest complete!")
        body = _plus_points(int(data.get("points") or 0))
        return title, body, url_for("quests.index")
    if t == "achievement_earned":
        badge = look["badges"].get(data.get("achievement_id"))
        title = (gettext("Achievement unlocked: %(badge)s %(icon)s", badge=badge[0], icon=badge[1]).strip() if badge
                 else gettext("Achievement unlocked!"))
        body = _plus_points(int(data.get("points") or 0))
        return title, body, url_for("achievements.index")
    if t == "points_adjusted":
        # the title is the message a staff member wrote to the learner: free text, shown as written
        points = int(data.get("points") or 0)
        body = gettext("Points adjusted: %(points)s", points=_signed(points)) if points else None
        return n.title, body, n.link or url_for("journey.index")
    return n.title, n.body, n.link


def notification_views(items, *, collapse: bool = True) -> list[NotificationView]:
    """Word notifications (a page, newest first) and collapse bursts of level-ups into one row.

    ``items`` are stored ``Notification`` rows. With ``collapse=False`` every
    row keeps its own view (the data export: one row per notification). Needs
    a request context (``url_for``, the reader's locale).
    """
    look = _lookups(items)
    out: list[NotificationView] = []
    for n in items:
        title, body, link = _word(n, look)
        prev = out[-1] if out else None
        if (collapse and n.type == "level_up" and prev is not None and prev.type == "level_up" and _levels(n)
                and prev.extra.get("levels") and bool(prev.read_at) == bool(n.read_at)):
            prev.ids.append(n.id)
            prev.extra["levels"] += _levels(n)
            lo, hi = min(prev.extra["levels"]), max(prev.extra["levels"])
            prev.title = gettext("Level %(low)s → %(high)s", low=lo, high=hi)
            continue
        view = NotificationView(n.id, [n.id], n.type, title, body, link, n.created_at, n.read_at)
        if n.type == "level_up":
            view.extra["levels"] = _levels(n)
        out.append(view)
    return out


#: celebration kind → the notification type whose wording it shares (§7: the modal says what the inbox says).
CELEBRATION_TYPES = {"tier_up": "tier_up", "level_up": "level_up", "streak_milestone": "streak_milestone",
                     "circle_goal": "circle_goal_completed", "side_quest": "side_quest_completed",
                     "achievement": "achievement_earned"}


@dataclass
class CelebrationView:
    """A celebration as the learner reads it: ``id``, ``title`` and ``body`` worded in their language."""

    id: int
    kind: str
    title: str
    body: str | None


def celebration_views(celebrations) -> list[CelebrationView]:
    """Word pending celebrations (rows with ``kind``, ``data``, stored English ``title``/``body``) at display time.

    The stored title is kept only for kinds Thrive does not know (free text). A Jinja global
    (``celebration_views``, thrive/web/presentation.py) used by ``_celebration.html``.
    """
    if not celebrations:
        return []
    rows = [SimpleNamespace(id=c.id, type=CELEBRATION_TYPES.get(c.kind, c.kind), data=c.data, title=c.title,
                            body=c.body, link=None, read_at=None) for c in celebrations]
    look = _lookups(rows)
    out = []
    for c, row in zip(celebrations, rows, strict=True):
        title, body, _link = _word(row, look)
        out.append(CelebrationView(c.id, c.kind, title, body))
    return out

