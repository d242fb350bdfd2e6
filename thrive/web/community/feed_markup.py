"""The feed's markup built in Python: the per-page constants and each item or group headline (issue 12).

Every feed item carries a cheer form and a report link whose URLs, CSRF token
and labels are the same for the whole page. They used to be ``{% set %}`` at
the top of ``community/_feed.html`` (and of ``_cheer.html`` / ``_report.html``),
which made the template need an import ``with context`` — and Jinja builds such
a module again on every import, several times per page. With the constants
passed to its macros as one :class:`FeedMarkup`, ``_feed.html`` is imported
without context and built once per process.

Items and group headlines (:func:`feed_item_html`, :func:`feed_unit_html`) were, as Jinja macros
(``item_li`` and ``unit``, which now call them), about half of the community page's rendering. Their markup
is what the macros gave: every value escaped, translations marked safe. Sentences are worded by
:mod:`thrive.web.phrases` from the activity type, topic and tier — never a point amount (§1.3); a private
learner is "A learner", without a link (§8.4).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_wtf.csrf import generate_csrf
from jinja2.utils import url_quote
from markupsafe import Markup, escape

from thrive.timeutil import utc_iso

from ..i18n import gettext, ngettext, timeago
from ..phrases import actor_name, group_sentence, item_predicate
from ..presentation import avatar_html, url_safe
from . import bp


@dataclass(frozen=True)
class FeedMarkup:
    """What every item of one feed page shares (see ``community/_feed.html``)."""

    #: the cheer form up to the ``kind`` input's value; ``cheer_next`` closes the ``id`` input and adds ``next``
    cheer_head: Markup
    cheer_next: Markup
    #: a lazy report form's URL is ``report_head + kind + "&id=" + id + report_tail``
    report_head: str
    report_tail: str
    #: a group's URL is this plus its url-encoded bucket key (``tab=following`` keeps the Following feed's groups)
    group_head: str
    #: a profile link is this plus the username when URL quoting leaves the username as it is
    profile_head: str
    t_cheered: Markup
    t_cheer: Markup
    t_report: Markup
    t_open_report: Markup
    t_see_who: Markup


@bp.app_template_global("feed_markup")
def feed_markup(here: str | None, tab: str | None = None) -> FeedMarkup:
    """The constants of one feed page: ``here`` is where a non-JS cheer or report returns (None: the
    community page), ``tab`` ``"following"`` for the Following feed's group links.

    The markup is exactly what the former per-page ``{% set %}`` blocks gave (labels are translated as
    Jinja's ``_()`` does: the translation marked safe).
    """
    back = here or url_for("community.index")
    cheer_url = url_for("community.cheer")
    following = tab == "following"
    return FeedMarkup(
        cheer_head=Markup('<form method="post" action="{0}" class="cheer-form inline-form"\n'
                          '      hx-post="{0}" hx-target="this" hx-swap="outerHTML">\n'
                          '  <input type="hidden" name="csrf_token" value="{1}">\n'
                          '  <input type="hidden" name="kind" value="').format(cheer_url, generate_csrf()),
        cheer_next=Markup('">\n  <input type="hidden" name="next" value="{}">').format(back),
        report_head=url_for("community.report_form") + "?kind=",
        # the ``next`` parameter encoded exactly as url_for encodes it (items' kind and id need no escaping)
        report_tail="&next=" + url_for("community.report_form", next=back).partition("?next=")[2],
        group_head=(url_for("community.group", tab="following" if following else None)
                    + ("&" if following else "?") + "key="),
        profile_head=url_for("community.profile", username="x")[:-1],
        t_cheered=Markup(gettext("Cheered")),
        t_cheer=Markup(gettext("Cheer")),
        t_report=Markup(gettext("Report")),
        t_open_report=Markup(gettext("Open the report form")),
        t_see_who=Markup(gettext("See who")),
    )


@bp.app_template_global("feed_item_html")
def feed_item_html(item, k) -> Markup:
    """One feed item (``<li class="feed-item">``): avatar, sentence, time, cheer form and, when the reader may
    cheer it, the lazy report box. ``item``: a ``FeedItem``; ``k``: the page's ``FeedMarkup``."""
    dom_id = escape(item.dom_id)
    actor = item.actor
    name = actor_name(actor)
    pub = actor.public_username
    if pub:
        href = k.profile_head + pub if url_safe(pub) else url_for("community.profile", username=pub)
        who = f'<a href="{escape(href)}" class="feed-actor">{escape(name)}</a>'
    else:
        who = f'<span class="feed-actor anonymous">{escape(name)}</span>'
    tier = f' <span aria-hidden="true">{escape(item.tier.emoji)}</span>' if item.tier else ""
    described = f'aria-describedby="{dom_id}-text"'
    if item.cheered:
        button = (f'\n    <button type="button" class="cheer cheered secondary" disabled {described}>'
                  f'<span aria-hidden="true">👏</span> {k.t_cheered}</button>')
    elif item.can_cheer:
        button = (f'\n    <button type="submit" class="cheer secondary outline" {described}>'
                  f'<span aria-hidden="true">👏</span> {k.t_cheer}</button>')
    else:
        button = ""
    count = (f' <span class="cheer-count">{escape(ngettext("%(num)s cheer", "%(num)s cheers", item.cheers))}</span>'
             if item.cheers else "")
    report = ""
    if item.can_cheer:
        form_url = escape(f"{k.report_head}{item.kind}&id={item.id}{k.report_tail}")
        report = (f' <details class="report-box" id="{dom_id}-report"\n'
                  f'         hx-get="{form_url}" hx-trigger="toggle once" hx-target="find .report-slot" '
                  f'hx-swap="innerHTML">\n'
                  f'  <summary {described}>{k.t_report}</summary>\n'
                  f'  <div class="report-slot"><a href="{form_url}">{k.t_open_report}</a></div>\n</details>')
    instant = item.occurred_at
    return Markup(
        f'<li class="feed-item{" feed-tier-up" if item.kind == "tier_up" else ""}" id="{dom_id}">\n'
        f'  {avatar_html(name if actor.shares_profile else None, "sm")}\n'
        f'  <div class="feed-body">\n'
        f'    <p class="feed-sentence" id="{dom_id}-text">{who} {escape(item_predicate(item))}{tier}</p>\n'
        f'    <div class="feed-meta"><time datetime="{utc_iso(instant)}">{escape(timeago(instant))}</time> '
        f'{k.cheer_head}{escape(item.kind)}">\n'
        f'  <input type="hidden" name="id" value="{escape(item.id)}{k.cheer_next}{button}{count}\n</form>'
        f'{report}</div>\n  </div>\n</li>')


@bp.app_template_global("group_headline_html")
def group_headline_html(group) -> Markup:
    """A group's headline: "<strong>Sarah</strong> completed 3 quizzes", "12 people reached Spark" (plain text,
    no link: it sits in a ``<summary>``). ``group``: a ``FeedGroup``."""
    who = (f"<strong>{escape(actor_name(group.actor))}</strong> "
           if group.actor and group.kind != "circle_goal" else "")
    return Markup(f"{who}{escape(group_sentence(group))}")


@bp.app_template_global("feed_unit_html")
def feed_unit_html(unit, k) -> Markup:
    """One unit of a feed page: a ``FeedItem`` (see :func:`feed_item_html`) or a ``FeedGroup``'s headline,
    whose items are fetched when it is opened (without JavaScript its link shows them on a page)."""
    if not hasattr(unit, "people"):
        return feed_item_html(unit, k)
    group_url = escape(k.group_head + url_quote(unit.head.group_key))
    instant = unit.occurred_at
    return Markup(
        f'<li class="feed-item feed-group" id="{escape(unit.dom_id)}">\n'
        f'  <details hx-get="{group_url}" hx-trigger="toggle once" hx-target="find .feed-group-slot" '
        f'hx-swap="innerHTML">\n'
        f'    <summary>\n'
        f'      <span class="feed-sentence">{group_headline_html(unit)}</span>\n'
        f'      <span class="feed-meta"><time datetime="{utc_iso(instant)}">{escape(timeago(instant))}</time></span>\n'
        f'    </summary>\n'
        f'    <div class="feed-group-slot"><a href="{group_url}">{k.t_see_who}</a></div>\n'
        f'  </details>\n</li>')
