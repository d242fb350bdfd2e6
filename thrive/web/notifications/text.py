"""Notifications as the learner reads them: rendered at display time from ``type`` + ``data`` (§9).

Services store a notification's type and data (and an English title as a
fallback for types or rows without data). This module words each row in the
request's locale, links it to its subject — tier-up and level-up → your
progress, new follower → their profile, weekly goal → the goals panel, circle →
the circle panel, quest → the quest — and collapses bursts: consecutive
level-ups read as one row "Level 2 → 11".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import or_, select

from thrive.extensions import db
from thrive.models import Circle, Learner, WeeklyGoal
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
    out = {"circles": {}, "goals": {}, "people": {}}
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


def _word(n, look: dict) -> tuple[str, str | None, str | None]:
    """(title, body, link) of one notification."""
    data = n.data or {}
    progress = url_for("home.index", _anchor="status-panel")
    t = n.type
    if t == "tier_up" and data.get("tier"):
        tier = load_registry().tier(data["tier"])
        return gettext("You reached %(tier)s!", tier=tier.name), tier.tagline, progress
    if t == "level_up" and _levels(n):
        top = max(_levels(n))
        return gettext("Level %(level)s!", level=top), None, progress
    if t == "streak_milestone" and data.get("days"):
        return (ngettext("%(num)s-day streak!", "%(num)s-day streak!", int(data["days"])), None, progress)
    if t == "streak_at_risk" and data.get("streak"):
        return (ngettext("Your %(num)s-day streak is waiting for you", "Your %(num)s-day streak is waiting for you",
                         int(data["streak"])), gettext("One activity today keeps it going."), progress)
    if t == "grace_day_used" and data.get("used"):
        used, left = int(data["used"]), int(data.get("grace_days") or 0)
        title = ngettext("A grace day kept your streak alive", "%(num)s grace days kept your streak alive", used)
        body = (ngettext("%(num)s grace day left.", "%(num)s grace days left.", left) if left
                else gettext("None left — they come back with every 7-day streak."))
        return title, body, progress
    if t == "weekly_goal_completed" and data:
        goal = look["goals"].get(data.get("goal_id"))
        title = gettext("Weekly goal complete: %(goal)s", goal=goal) if goal else gettext("Weekly goal complete")
        body = ngettext("+%(num)s point. Nicely done!", "+%(num)s points. Nicely done!", int(data.get("reward") or 0)) \
            if data.get("reward") else None
        return title, body, url_for("goals.panel")
    if t == "circle_goal_completed" and data:
        name = look["circles"].get(data.get("circle_id")) or gettext("Your Thrive Circle")
        body = ngettext("Everyone's showing up paid off: +%(num)s point for taking part.",
                        "Everyone's showing up paid off: +%(num)s points for taking part.",
                        int(data.get("points") or 0)) if data.get("points") else None
        return gettext("%(circle)s reached its goal together!", circle=name), body, url_for("circles.panel")
    if t == "circle_assigned" and data:
        name = look["circles"].get(data.get("circle_id"))
        title = (gettext("Meet your Thrive Circle: %(circle)s", circle=name) if name
                 else gettext("Meet your Thrive Circle"))
        body = gettext("Say hello to the learners at a similar stage to you this week.")
        return title, body, url_for("circles.panel")
    if t == "new_follower" and n.data is not None:
        person = look["people"].get(data.get("actor_id", data.get("follower")))
        if person and person[1]:
            return (gettext("%(name)s started following you", name=person[0]), None,
                    url_for("community.profile", username=person[2]))
        return gettext("A learner started following you"), None, None
    if t == "weekly_recap" and "points" in data:
        points, goals = int(data.get("points") or 0), int(data.get("goals") or 0)
        title = ngettext("Last week you earned %(num)s point", "Last week you earned %(num)s points", points)
        if goals:
            title += " " + ngettext("and completed %(num)s goal", "and completed %(num)s goals", goals)
        return title, None, url_for("journey.index", days="7")
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
                and bool(prev.read_at) == bool(n.read_at)):
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
