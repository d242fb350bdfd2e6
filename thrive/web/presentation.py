"""Presentation helpers exposed to every template (STYLE.md: text a person reads lives in the web layer).

Jinja globals: ``actor_name``, ``item_predicate``, ``group_sentence``
(:mod:`.phrases`), ``recommendation_view``, ``action_title``, ``action_link``,
``action_icon``, ``category_label``, ``nudge_message`` (:mod:`.actions`),
``category_colour``, ``chart_payload``, ``donut_chart`` and ``stacked_chart`` (:mod:`.journey.chart`),
``notification_views`` (:mod:`.notifications.text`).
``avatar_html`` (an initials avatar), ``tier_icon_html`` and ``tier_chip_html`` (a tier's icon and chip).
Jinja test: ``url_safe`` (a string that URL quoting leaves as it is).
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask
from markupsafe import Markup, escape

#: Characters no URL quoting changes (RFC 3986 unreserved): a path part made only of them is used as it is.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+\Z")


def url_safe(value) -> bool:
    """True when ``value`` is a non-empty string of RFC 3986 unreserved characters (``url_for`` keeps it as is).

    Lets a template build many same-shaped URLs from one ``url_for`` result (issue 12: the feed's profile links).
    """
    return isinstance(value, str) and _URL_SAFE.match(value) is not None


@lru_cache(maxsize=8192)
def avatar_html(name: str | None, size: str = "md") -> Markup:
    """The decorative initials avatar of ``name`` (None or empty: "?") at ``size`` (``sm``, ``md``, ``lg``).

    ``<span class="avatar avatar-sm" aria-hidden="true" data-hue="3">SC</span>``: the initials of the first
    and last words, upper-cased; the hue is the name's length modulo 6. Exactly what the ``avatar`` macro of
    ``_avatar.html`` gave, as one cached call instead of a Jinja macro per avatar (issue 12: the circle
    panel draws ~25 per home page); cached per process — the markup is a pure function of its arguments.
    """
    shown = name or "?"
    words = shown.split() or ["?"]
    initials = (words[0][:1] + (words[-1][:1] if len(words) > 1 else "")).upper()
    # escape + f-string: ``Markup.format`` costs ~20 µs a call (string.Formatter), and discover's names rarely repeat
    return Markup(f'<span class="avatar avatar-{escape(size)}" aria-hidden="true" data-hue="{len(shown) % 6}">'
                  f'{escape(initials or "?")}</span>')


#: SVG paths of the built-in tiers' icons (issue 11: no Tokyo Tower emoji for Beacon, no eagle for Phoenix)
TIER_ICON_PATHS = {
    "ember": "M12 2c1 4-3 6-3 10a3 3 0 0 0 6 0c0-1-.5-2-1-3 2 1 4 3.5 4 6.5A6 6 0 0 1 6 15.5C6 9.5 12 7 12 2z",
    "spark": "M12 2l2.2 7.8L22 12l-7.8 2.2L12 22l-2.2-7.8L2 12l7.8-2.2z",
    "blaze": ("M12 1l2.4 4.6 5.1-.9-.9 5.1L23 12l-4.4 2.2.9 5.1-5.1-.9L12 23l-2.4-4.6-5.1.9.9-5.1L1 12l4.4-2.2"
              "-.9-5.1 5.1.9z"),
    "beacon": "M10 2h4l1 4h-6zM8.5 7h7l1.5 15h-10zM3 5l4 2-4 2zM21 5l-4 2 4 2z",
    "phoenix": "M12 3c-2 3-1 6 0 7-3-1-6-4-9-4 1 4 4 8 8 9l-2 6h6l-2-6c4-1 7-5 8-9-3 0-6 3-9 4 1-1 2-4 0-7z",
}


@lru_cache(maxsize=256)
def _tier_icon(key: str, emoji: str, size) -> Markup:
    path = TIER_ICON_PATHS.get(key)
    if path is None:  # an admin-added tier keeps its emoji
        return Markup('<span class="tier-emoji" aria-hidden="true">{}</span>').format(emoji)
    return Markup('<svg class="tier-icon" width="{0}" height="{0}" viewBox="0 0 24 24" aria-hidden="true" '
                  'focusable="false"><path fill="currentColor" d="{1}"/></svg>').format(size, path)


def tier_icon_html(tier, size=18) -> Markup:
    """A tier's decorative icon (an SVG drawn in the tier colour; its emoji for a tier added by an admin).

    ``tier``: anything with ``key`` and ``emoji`` (a TierSnapshot or a Tier row); ``size`` in CSS pixels.
    Cached per process on (key, emoji, size): the markup is a pure function of them (issue 12).
    """
    return _tier_icon(tier.key, tier.emoji, size)


@lru_cache(maxsize=256)
def _tier_chip(key: str, emoji: str, colour: str, name: str) -> Markup:
    return Markup('<span class="tier-chip tier-{}" style="--tier-colour: {}" title="{}">{} {}</span>').format(
        key, colour, name, _tier_icon(key, emoji, 14), name)


def tier_chip_html(tier) -> Markup:
    """A small chip with a tier's icon and name (§5.1; never points). ``tier``: key, emoji, colour, name.

    Cached per process on those four values: the markup is a pure function of them (issue 12: the circle
    panel and discover draw up to ~25 a page).
    """
    return _tier_chip(tier.key, tier.emoji, tier.colour, tier.name)


def init_app(app: Flask) -> None:
    from flask import send_from_directory

    from . import actions, phrases

    @app.route("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico whatever the page says: no 404 on every page (issue 11)."""
        return send_from_directory(app.static_folder, "img/favicon.ico", max_age=86400)

    from .journey import chart
    from .notifications import text

    app.jinja_env.globals.update(
        actor_name=phrases.actor_name, item_predicate=phrases.item_predicate,
        group_sentence=phrases.group_sentence,
        community_message=phrases.community_message, activity_predicate=phrases.activity_predicate,
        recommendation_view=actions.recommendation_view, action_title=actions.action_title,
        action_link=actions.action_link,
        activity_label=actions.activity_label, action_icon=actions.action_icon, category_label=actions.category_label,
        nudge_message=actions.nudge_message, category_colour=chart.category_colour,
        chart_payload=chart.chart_payload, donut_chart=chart.donut, stacked_chart=chart.stacked,
        notification_views=text.notification_views,
        celebration_views=text.celebration_views, avatar_html=avatar_html,
        tier_icon_html=tier_icon_html, tier_chip_html=tier_chip_html,
    )
    app.jinja_env.tests["url_safe"] = url_safe
