"""The circle panel's member grid and activity list as markup built in Python (§6.1, §8.4; issue 12).

A circle has up to ~25 members, each an avatar, a name, maybe a tier chip and a streak: as a Jinja loop the
grid was most of the circle panel's rendering, itself the largest part of the home page's. These functions
give exactly the markup the loops gave (translations marked safe as Jinja's ``_()`` does, every other value
escaped). Never a member's points (§1.3).
"""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from thrive.services.community.visibility import ANONYMOUS_NAME
from thrive.timeutil import utc_iso

from ..i18n import gettext, ngettext, request_locale, timeago
from ..phrases import activity_predicate
from ..presentation import avatar_html, tier_chip_html
from . import bp


def _streak_html(days: int) -> str:
    """The flame with the streak's length for sighted readers and its wording for screen readers."""
    return _streak_markup(days, str(request_locale()))


@lru_cache(maxsize=1024)
def _streak_markup(days: int, locale: str) -> str:
    """:func:`_streak_html` in ``locale`` (the catalogues are loaded once per process, so this is a pure
    function of both; a circle repeats a few streak lengths)."""
    title = escape(ngettext("%(num)s-day streak", "%(num)s-day streak", days))
    spoken = escape(ngettext("streak of %(num)s day", "streak of %(num)s days", days))
    return (f' <span class="streak-flame" title="{title}"><span aria-hidden="true">🔥</span>'
            f'<span class="visually-hidden">{spoken}</span><span aria-hidden="true">{days}</span></span>')


def _member_html(member, circle_tier_key: str, you: Markup, anonymous: Markup) -> str:
    name = anonymous if member.is_private else escape(member.display_name)
    classes = "member" + (" member-private" if member.is_private else "") + (" member-you" if member.is_you else "")
    meta = ""
    other_tier = member.tier.key != circle_tier_key
    if other_tier or member.streak:
        chip = f'<span class="member-tier">{tier_chip_html(member.tier)}</span>' if other_tier else ""
        meta = f'\n<span class="member-meta">{chip}{_streak_html(member.streak) if member.streak else ""}</span>'
    mark = f' <small class="muted">{you}</small>' if member.is_you else ""
    return (f'<li class="{classes}">\n'
            f'<span class="member-avatar" style="--tier-colour: {escape(member.tier.colour)}">'
            f'{avatar_html(member.avatar_name, "sm")}</span>\n'
            f'<span class="member-text">\n<span class="member-name" title="{name}">{name}{mark}</span>{meta}\n'
            f'</span>\n</li>')


@bp.app_template_global("circle_members_html")
def circle_members_html(members, circle_tier) -> Markup:
    """The ``<li>`` items of the member grid. ``members``: ``CircleMember`` list in the order shown;
    ``circle_tier``: the circle's tier (a member's own tier chip appears only where it differs)."""
    you, anonymous = Markup(gettext("(you)")), Markup(gettext("A learner"))
    return Markup("\n".join(_member_html(m, circle_tier.key, you, anonymous) for m in members))


def _activity_html(activity, you: Markup, anonymous: Markup) -> str:
    if activity.is_you:
        who = you
    else:
        who = anonymous if activity.who == ANONYMOUS_NAME else escape(activity.who)
    if activity.count == 1:
        what = escape(activity_predicate(activity.activity_type, activity.topic, you=activity.is_you))
    else:
        times = escape(ngettext("(%(num)s time)", "(%(num)s times)", activity.count))
        what = f'{escape(activity_predicate(activity.activity_type, you=activity.is_you))} ' \
               f'<span class="muted">{times}</span>'
    instant = activity.occurred_at
    return (f'<li><strong>{who}</strong> {what}\n<small class="muted"><time datetime="'
            f'{utc_iso(instant)}">{escape(timeago(instant))}</time></small></li>')


@bp.app_template_global("circle_activities_html")
def circle_activities_html(activities) -> Markup:
    """The ``<li>`` items of "Recent activity". ``activities``: ``CircleActivity`` list, newest first
    (``occurred_at`` UTC instants); the viewer's own read "You", a private member "A learner"; no amounts."""
    you, anonymous = Markup(gettext("You")), Markup(gettext("A learner"))
    return Markup("\n".join(_activity_html(a, you, anonymous) for a in activities))
