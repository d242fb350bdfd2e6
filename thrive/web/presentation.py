"""Presentation helpers exposed to every template (STYLE.md: text a person reads lives in the web layer).

Jinja globals: ``actor_name``, ``item_predicate``, ``group_sentence``
(:mod:`.phrases`), ``recommendation_view``, ``action_title``, ``action_link``,
``action_icon``, ``category_label``, ``nudge_message`` (:mod:`.actions`),
``category_colour``, ``chart_payload``, ``donut_chart`` and ``stacked_chart`` (:mod:`.journey.chart`),
``notification_views`` (:mod:`.notifications.text`).
``avatar_html`` (an initials avatar).
Jinja test: ``url_safe`` (a string that URL quoting leaves as it is).
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask
from markupsafe import Markup

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
    return Markup('<span class="avatar avatar-{}" aria-hidden="true" data-hue="{}">{}</span>').format(
        size, len(shown) % 6, initials or "?")


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
    )
    app.jinja_env.tests["url_safe"] = url_safe
