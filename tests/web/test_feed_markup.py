"""Feed item markup built from per-page constants (issue 12): the same links ``url_for`` gives.

The old templates are quoted verbatim below (long lines included) to compare their output with the new helpers.
"""
# ruff: noqa: E501
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template, render_template_string, url_for

from thrive.services.community.feed_items import Actor, FeedItem
from thrive.web.presentation import url_safe


@pytest.mark.parametrize("value, safe", [
    ("learner_01", True), ("a.b-c~d", True), ("ABC", True),
    ("a b", False), ("ñandú", False), ("a/b", False), ("a%b", False), ("", False), (None, False), (3, False),
])
def test_url_safe(value, safe):
    assert url_safe(value) is safe


@pytest.mark.parametrize("username", ["learner_01", "a.b-c", "odd name/ñ"])
def test_feed_item_links_and_report_url_are_what_url_for_gives(app, username):
    """A profile link is the page's prefix plus a username quoting leaves alone, else ``url_for``'s own."""
    actor = Actor(id=7, username=username, display_name="Ana Ruiz", shares_profile=True)
    item = FeedItem(kind="entry", id=42, actor=actor, occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
                    activity_type="quiz_completed", topic="SQL", cheers=2)
    with app.test_request_context("/community"):
        html = render_template_string(
            '{% import "community/_feed.html" as f with context %}{{ f.item_li(item) }}',
            item=item, here="/community?x=1&y=ñ")
        profile = url_for("community.profile", username=username)
        report = url_for("community.report_form", kind="entry", id=42, next="/community?x=1&y=ñ")
    assert f'<a href="{profile}" class="feed-actor">Ana Ruiz</a>' in html
    assert f'hx-get="{report.replace("&", "&amp;")}"' in html
    assert 'name="next" value="/community?x=1&amp;y=ñ"' in html and "2 cheers" in html
    assert 'data-hue="2">AR</span>' in html


#: the ``avatar`` macro as it was before issue 12 made it one cached Python call
_OLD_AVATAR = """{% macro avatar(name, size="md") -%}
  {%- set words = (name or "?").split() -%}
  {%- set initials = (words[0][:1] ~ (words[-1][:1] if words|length > 1 else "")) | upper -%}
  <span class="avatar avatar-{{ size }}" aria-hidden="true" data-hue="{{ (name or '?') | length % 6 }}">{{ initials or "?" }}</span>
{%- endmacro %}{{ avatar(name, size) }}"""


@pytest.mark.parametrize("name", ["Ana Ruiz", "sam", "María José de la O", "<b>x</b> & y", "ñandú éclair", "",
                                  None, "Zoë"])
@pytest.mark.parametrize("size", ["sm", "md", "lg"])
def test_avatar_html_is_what_the_macro_gave(app, name, size):
    from thrive.web.presentation import avatar_html

    with app.test_request_context("/"):
        old = render_template_string(_OLD_AVATAR, name=name, size=size)
        new = render_template_string('{% from "_avatar.html" import avatar %}{{ avatar(name, size) }}',
                                     name=name, size=size)
    assert str(avatar_html(name, size)) == old == new


_OLD_TIER = """{% macro tier_icon(tier, size=18) -%}
{%- set paths = {
  "ember": "M12 2c1 4-3 6-3 10a3 3 0 0 0 6 0c0-1-.5-2-1-3 2 1 4 3.5 4 6.5A6 6 0 0 1 6 15.5C6 9.5 12 7 12 2z",
  "spark": "M12 2l2.2 7.8L22 12l-7.8 2.2L12 22l-2.2-7.8L2 12l7.8-2.2z",
  "blaze": "M12 1l2.4 4.6 5.1-.9-.9 5.1L23 12l-4.4 2.2.9 5.1-5.1-.9L12 23l-2.4-4.6-5.1.9.9-5.1L1 12l4.4-2.2-.9-5.1 5.1.9z",
  "beacon": "M10 2h4l1 4h-6zM8.5 7h7l1.5 15h-10zM3 5l4 2-4 2zM21 5l-4 2 4 2z",
  "phoenix": "M12 3c-2 3-1 6 0 7-3-1-6-4-9-4 1 4 4 8 8 9l-2 6h6l-2-6c4-1 7-5 8-9-3 0-6 3-9 4 1-1 2-4 0-7z",
} -%}
{%- if tier.key in paths -%}
<svg class="tier-icon" width="{{ size }}" height="{{ size }}" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="{{ paths[tier.key] }}"/></svg>
{%- else -%}
<span class="tier-emoji" aria-hidden="true">{{ tier.emoji }}</span>
{%- endif -%}
{%- endmacro %}{% macro tier_chip(tier) -%}
  <span class="tier-chip tier-{{ tier.key }}" style="--tier-colour: {{ tier.colour }}" title="{{ tier.name }}">{{ tier_icon(tier, 14) }} {{ tier.name }}</span>
{%- endmacro %}{{ tier_chip(tier) }}|{{ tier_icon(tier) }}|{{ tier_icon(tier, 28) }}"""


def test_tier_icon_and_chip_html_are_what_the_macros_gave(app):
    from thrive.services.points.registry import TierSnapshot, load_registry
    from thrive.web.presentation import tier_chip_html, tier_icon_html

    with app.test_request_context("/"):
        tiers = list(load_registry().tiers) + [TierSnapshot("guild", 'Guild <"A&B">', 9, "🛡️", "#123456", "")]
        for tier in tiers:
            old = render_template_string(_OLD_TIER, tier=tier)
            new = render_template_string(
                '{% from "_tier_badge.html" import tier_chip %}{% from "_tier_icon.html" import tier_icon %}'
                '{{ tier_chip(tier) }}|{{ tier_icon(tier) }}|{{ tier_icon(tier, 28) }}', tier=tier)
            direct = f"{tier_chip_html(tier)}|{tier_icon_html(tier)}|{tier_icon_html(tier, 28)}"
            assert old == new == direct


@pytest.mark.parametrize("following", [True, False])
@pytest.mark.parametrize("here", ["/community?tier=spark&topic=ñ", None])
def test_follow_form_macro_is_what_the_include_gave(app, following, here):
    """Discover lists people with the ``follow_form`` macro; ``_follow.html`` (HTMX answers, profiles) renders it."""
    old_source = (
        "{%- set action = url_for('community.unfollow' if following else 'community.follow', username=username) -%}\n"
        '<form method="post" action="{{ action }}" class="follow-form inline-form" hx-post="{{ action }}" '
        'hx-target="this" hx-swap="outerHTML">\n'
        '  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">\n'
        """  <input type="hidden" name="next" value="{{ here or url_for('community.profile', username=username) }}">\n"""
        "  {%- if following %}\n"
        '    <span class="following-mark"><span aria-hidden="true">✓</span> {{ _("Following") }}</span>\n'
        """    <button type="submit" class="secondary outline" aria-label="{{ _('Unfollow %(name)s', name=name) }}">"""
        '{{ _("Unfollow") }}</button>\n'
        "  {%- else %}\n"
        """    <button type="submit" class="secondary" aria-label="{{ _('Follow %(name)s', name=name) }}">"""
        '{{ _("Follow") }}</button>\n'
        "  {%- endif %}\n"
        "</form>")
    args = {"username": "ana.ruiz", "name": 'Ana "<Ruiz>"', "following": following, "here": here}
    with app.test_request_context("/community"):
        old = render_template_string(old_source, **args)
        include = render_template("profile/_follow.html", **args)
        macro = render_template_string('{% from "profile/_follow_form.html" import follow_form with context %}'
                                       "{{ follow_form(username, name, following, here) }}", **args)
    assert old == include == macro
