"""Presentation helpers exposed to every template (STYLE.md: text a person reads lives in the web layer).

Jinja globals: ``actor_name``, ``item_predicate``, ``group_sentence``
(:mod:`.phrases`), ``recommendation_view``, ``action_title``, ``action_link``,
``action_icon``, ``category_label``, ``nudge_message`` (:mod:`.actions`),
``category_colour``, ``chart_payload``, ``donut_chart`` and ``stacked_chart`` (:mod:`.journey.chart`),
``notification_views`` (:mod:`.notifications.text`).
"""
from __future__ import annotations

from flask import Flask


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
        celebration_views=text.celebration_views,
    )
