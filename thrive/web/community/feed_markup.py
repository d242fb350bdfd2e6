"""The feed's per-page constant markup, built once per render in Python (issue 12).

Every feed item carries a cheer form and a report link whose URLs, CSRF token
and labels are the same for the whole page. They used to be ``{% set %}`` at
the top of ``community/_feed.html`` (and of ``_cheer.html`` / ``_report.html``),
which made the template need an import ``with context`` — and Jinja builds such
a module again on every import, several times per page. With the constants
passed to its macros as one :class:`FeedMarkup`, ``_feed.html`` is imported
without context and built once per process.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..i18n import gettext
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
