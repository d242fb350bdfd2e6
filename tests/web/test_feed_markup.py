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


#: the ``item_li`` and ``unit`` macros of ``community/_feed.html`` as they were before the markup moved to Python
_OLD_FEED_MACROS = """{% macro item_li(item, k=None) -%}
{%- set k = k or feed_markup(here if here is defined else None, tab if tab is defined else None) -%}
{%- set dom_id = item.dom_id -%}{%- set actor = item.actor -%}{%- set name = actor_name(actor) -%}
{%- set pub = actor.public_username -%}{%- set tier = item.tier -%}{%- set instant = item.occurred_at -%}
{%- set cheers = item.cheers -%}{%- set can_cheer = item.can_cheer -%}
<li class="feed-item{% if item.kind == 'tier_up' %} feed-tier-up{% endif %}" id="{{ dom_id }}">
  {{ avatar_html(name if actor.shares_profile else None, "sm") }}
  <div class="feed-body">
    <p class="feed-sentence" id="{{ dom_id }}-text">
    {%- if pub -%}
    <a href="{{ k.profile_head ~ pub if pub is url_safe else url_for('community.profile', username=pub) }}" class="feed-actor">{{ name }}</a>
    {%- else -%}
    <span class="feed-actor anonymous">{{ name }}</span>
    {%- endif %} {{ item_predicate(item) }}{% if tier %} <span aria-hidden="true">{{ tier.emoji }}</span>{% endif %}</p>
    <div class="feed-meta"><time datetime="{{ instant | utc_iso }}">{{ instant | timeago }}</time> {{ k.cheer_head }}{{ item.kind }}">
  <input type="hidden" name="id" value="{{ item.id }}{{ k.cheer_next }}
  {%- if item.cheered %}
    <button type="button" class="cheer cheered secondary" disabled aria-describedby="{{ dom_id }}-text"><span aria-hidden="true">👏</span> {{ k.t_cheered }}</button>
  {%- elif can_cheer %}
    <button type="submit" class="cheer secondary outline" aria-describedby="{{ dom_id }}-text"><span aria-hidden="true">👏</span> {{ k.t_cheer }}</button>
  {%- endif %}
  {%- if cheers %} <span class="cheer-count">{{ ngettext("%(num)s cheer", "%(num)s cheers", cheers) }}</span>{% endif %}
</form>
      {%- if can_cheer %} {% set form_url = k.report_head ~ item.kind ~ "&id=" ~ item.id ~ k.report_tail -%}
<details class="report-box" id="{{ dom_id }}-report"
         hx-get="{{ form_url }}" hx-trigger="toggle once" hx-target="find .report-slot" hx-swap="innerHTML">
  <summary aria-describedby="{{ dom_id }}-text">{{ k.t_report }}</summary>
  <div class="report-slot"><a href="{{ form_url }}">{{ k.t_open_report }}</a></div>
</details>
      {%- endif %}</div>
  </div>
</li>
{%- endmacro %}
{% macro unit(u, k=None) -%}
{%- set k = k or feed_markup(here if here is defined else None, tab if tab is defined else None) -%}
{%- if u.people is defined -%}
{%- set group_url = k.group_head ~ (u.head.group_key | urlencode) -%}
<li class="feed-item feed-group" id="{{ u.dom_id }}">
  {#- the group's items are fetched when it is opened (issue 12: they were most of the page's rendering);
      without JavaScript the link shows them on a page of their own -#}
  <details hx-get="{{ group_url }}" hx-trigger="toggle once" hx-target="find .feed-group-slot" hx-swap="innerHTML">
    <summary>
      {#- plain text here: no link inside <summary> (nested interactive controls); the items below link -#}
      {#- group_headline(u) and when(u.occurred_at), inlined (a macro call per unit costs more than its markup) -#}
      <span class="feed-sentence">{% if u.actor and u.kind != 'circle_goal' %}<strong>{{ actor_name(u.actor) }}</strong> {% endif %}{{ group_sentence(u) }}</span>
      <span class="feed-meta"><time datetime="{{ u.occurred_at | utc_iso }}">{{ u.occurred_at | timeago }}</time></span>
    </summary>
    <div class="feed-group-slot"><a href="{{ group_url }}">{{ k.t_see_who }}</a></div>
  </details>
</li>
{%- else -%}
{{ item_li(u, k) }}
{%- endif -%}
{%- endmacro %}"""


def _feed_units():
    """Items and groups covering every branch: cheered, cheerable, counted, anonymous, odd usernames, tier-ups,
    groups of one learner, of several, of a circle."""
    from thrive.services.community.feed_items import FeedGroup
    from thrive.services.points.registry import load_registry

    spark = load_registry().tier("spark")
    when = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)
    ana = Actor(id=7, username="ana.ruiz", display_name='Ana "<Ruiz>" & co', shares_profile=True)
    odd = Actor(id=8, username="odd name/ñ", display_name="Odd", shares_profile=True)
    private = Actor(id=9, username="priv", display_name="Hidden Name", shares_profile=False)
    items = [
        FeedItem(kind="entry", id=1, actor=ana, occurred_at=when, activity_type="quiz_completed",
                 topic="<SQL> & more", cheers=3, cheered=True, can_cheer=True),
        FeedItem(kind="entry", id=2, actor=odd, occurred_at=when, activity_type="project_created", cheers=1,
                 can_cheer=True),
        FeedItem(kind="entry", id=3, actor=private, occurred_at=when, activity_type="comment_posted",
                 can_cheer=False),
        FeedItem(kind="tier_up", id=4, actor=ana, occurred_at=when, activity_type=None, tier=spark, cheers=0,
                 can_cheer=True),
        FeedItem(kind="entry", id=5, actor=ana, occurred_at=when, activity_type="mystery_type", cheers=1234,
                 can_cheer=True),
    ]
    groups = [
        FeedGroup(items=[items[0], items[4]], actor=ana, people=1, kind="activity"),
        FeedGroup(items=[items[0], items[1], items[2]], actor=None, people=3, kind="activity"),
        FeedGroup(items=[items[3], items[3]], actor=None, people=2, kind="tier_up", in_circle=True),
    ]
    return items, groups


@pytest.mark.parametrize("here", ["/community?tier=spark&topic=ñ", None])
@pytest.mark.parametrize("tab", [None, "following"])
def test_feed_items_and_groups_are_what_the_macros_gave(app, here, tab):
    import re

    from thrive.web.community.feed_markup import feed_markup, feed_unit_html

    with app.test_request_context("/community"):
        items, groups = _feed_units()
        k = feed_markup(here, tab)
        for unit in items + groups:
            old = render_template_string(_OLD_FEED_MACROS + "{{ unit(u, k) }}", u=unit, k=k, here=here, tab=tab)
            new = str(feed_unit_html(unit, k))
            via_macro = render_template_string('{% import "community/_feed.html" as f %}{{ f.unit(u, k) }}',
                                               u=unit, k=k)
            # the same markup; only the whitespace between tags (which Jinja's whitespace control left) differs
            squeeze = lambda html: re.sub(r"\s+", " ", html).replace("> <", "><").strip()  # noqa: E731
            # one deliberate difference: the count is grouped for the locale ("1,234 cheers")
            assert squeeze(old) == squeeze(new).replace("1,234 cheers", "1234 cheers") \
                == squeeze(via_macro).replace("1,234 cheers", "1234 cheers")
            assert "Hidden Name" not in new
        first = str(feed_unit_html(items[0], k))
        assert "&lt;SQL&gt; &amp; more" in first and "Ana &#34;&lt;Ruiz&gt;&#34; &amp; co" in first
        assert "Cheered" in first and "3 cheers" in first
        assert "1,234 cheers" in str(feed_unit_html(items[4], k))  # grouped (the macro said "1234 cheers")
