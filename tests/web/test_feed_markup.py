"""Feed item markup built from per-page constants (issue 12): the same links ``url_for`` gives."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template_string, url_for

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
