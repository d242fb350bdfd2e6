"""Follow buttons and discover's person cards as markup built in Python (§8.2, §8.3; issue 12).

Discover lists a dozen people per page, each with a profile link, a tier chip and a follow form: as Jinja
macros they were a third of the community page's rendering. ``follow_form_html`` is the single source of the
follow form's markup (the ``follow_form`` macro of ``profile/_follow_form.html`` calls it); ``person_card_html``
is one discover card. Never a point amount (§1.3).
"""
from __future__ import annotations

from flask import g, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..i18n import gettext
from ..presentation import avatar_html, tier_chip_html, url_safe
from . import bp

#: the parts are joined with ``escape`` on every value: ``Markup.format`` costs ~20 µs a call (string.Formatter)
_FOLLOW_MARK = '\n    <span class="following-mark"><span aria-hidden="true">✓</span> '


def _urls() -> tuple[str, str, str, str] | None:
    """``(profile prefix, "/follow" suffix, "/unfollow" suffix, csrf token)`` of this request, computed once:
    a profile URL is the prefix plus a username URL quoting leaves as it is (see ``url_safe``), the follow and
    unfollow URLs are that plus the suffix. None when the routes are not shaped so (then ``url_for`` each)."""
    found = g.get("thrive_people_urls")
    if found is None:
        profile = url_for("community.profile", username="x")[:-1]
        follow, unfollow = (url_for(e, username="x") for e in ("community.follow", "community.unfollow"))
        if follow.startswith(profile + "x") and unfollow.startswith(profile + "x"):
            found = (profile, follow[len(profile) + 1:], unfollow[len(profile) + 1:], generate_csrf())
        else:
            found = ()
        g.thrive_people_urls = found
    return found or None


def _profile_url(username: str, urls) -> str:
    if urls and url_safe(username):
        return urls[0] + username
    return url_for("community.profile", username=username)


@bp.app_template_global("follow_form_html")
def follow_form_html(username: str, name: str, following: bool, here: str | None) -> Markup:
    """The follow / unfollow form of ``username`` (display ``name``); ``here``: where a non-JS post returns
    (None: their profile). Labels are translated as Jinja's ``_()`` does (the translation marked safe)."""
    urls = _urls()
    if urls and url_safe(username):
        action = urls[0] + username + (urls[2] if following else urls[1])
    else:
        action = url_for("community.unfollow" if following else "community.follow", username=username)
    csrf = urls[3] if urls else generate_csrf()
    action = escape(action)
    head = (f'<form method="post" action="{action}" class="follow-form inline-form" hx-post="{action}" '
            f'hx-target="this" hx-swap="outerHTML">\n  <input type="hidden" name="csrf_token" value="{escape(csrf)}">\n'
            f'  <input type="hidden" name="next" value="{escape(here or _profile_url(username, urls))}">')
    if following:
        label = Markup(gettext("Unfollow %(name)s")) % {"name": name}
        return Markup(f'{head}{_FOLLOW_MARK}{Markup(gettext("Following"))}</span>\n'
                      f'    <button type="submit" class="secondary outline" aria-label="{label}">'
                      f'{Markup(gettext("Unfollow"))}</button>\n</form>')
    label = Markup(gettext("Follow %(name)s")) % {"name": name}
    return Markup(f'{head}\n    <button type="submit" class="secondary" aria-label="{label}">'
                  f'{Markup(gettext("Follow"))}</button>\n</form>')


@bp.app_template_global("person_card_html")
def person_card_html(person, here: str | None) -> Markup:
    """One discover card (``<li class="person-card">``): avatar, profile link, tier chip, level, topics and
    the follow form. ``person``: a ``DiscoverCard``."""
    topics = f'<span class="person-topics">{escape(" · ".join(person.topics))}</span>' if person.topics else ""
    level = Markup(gettext("Level %(level)s")) % {"level": person.level}
    return Markup(
        f'<li class="person-card">\n          {avatar_html(person.display_name)}\n          <div class="person-main">\n'
        f'            <a href="{escape(_profile_url(person.username, _urls()))}" class="person-name">'
        f'{escape(person.display_name)}</a>\n'
        f'            <span class="person-meta">{tier_chip_html(person.tier)} <span>{level}</span></span>\n'
        f'            {topics}\n          </div>\n'
        f'          {follow_form_html(person.username, person.display_name, person.following, here)}\n        </li>')
