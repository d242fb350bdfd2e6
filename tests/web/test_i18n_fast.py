"""The request-cached translation and formatting helpers (issue 12 item 4) give exactly Flask-Babel's and
Babel's text: gettext/ngettext/pgettext/npgettext (Python and Jinja), ``number``, ``timeago``, ``countdown``,
in English and Spanish, and they follow a locale change within a request (``force_locale``). One deliberate
difference: the Python ``ngettext``/``npgettext`` group ``%(num)s`` for the locale ("3,607 people")."""
from __future__ import annotations

from datetime import timedelta

import flask_babel
import jinja2
import pytest
from babel import dates, numbers
from flask import render_template_string

from thrive.timeutil import utcnow
from thrive.web import i18n

#: Seconds covering every unit and the rounding edges (Babel rounds to the nearest whole unit).
SECONDS = sorted({0, 1, 2, 29, 30, 44, 45, 59, 60, 61, 89, 90, 91, 119, 120, 150, 3599, 3600, 5399, 5400, 7199,
                  43199, 86399, 86400, 129599, 129600, 302399, 604799, 604800, 907199, 2591999, 2592000,
                  3887999, 31535999, 31536000, 47303999, 47304000, 10 ** 9}
                 | set(range(0, 7200, 37)) | set(range(0, 30 * 86400, 9973)))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_translations_match_flask_babel(app, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert i18n.gettext("Report") == flask_babel.gettext("Report")
        for n in (0, 1, 2, 5, 3607, 1234567):
            grouped = flask_babel.format_decimal(n)  # Flask-Babel's text with the number grouped
            assert i18n.ngettext("%(num)s day", "%(num)s days", n) == flask_babel.ngettext(
                "%(num)s day", "%(num)s days", n).replace(str(n), grouped)
            assert i18n.npgettext("people", "%(num)s person", "%(num)s people", n) == flask_babel.npgettext(
                "people", "%(num)s person", "%(num)s people", n).replace(str(n), grouped)
        assert i18n.ngettext("%(num)s day", "%(num)s days", 3607) == ("3,607 days" if lang == "en" else "3.607 días")
        assert i18n.gettext("Welcome back, %(name)s. Every bit of showing up counts.", name="Ana") == \
            flask_babel.gettext("Welcome back, %(name)s. Every bit of showing up counts.", name="Ana")
        assert i18n.pgettext("you haven't", "completed a quiz") == flask_babel.pgettext(
            "you haven't", "completed a quiz")
        # lazy texts (module-level wording) resolve at reading time, through the same catalogue
        assert str(i18n.lazy_gettext("Report")) == str(flask_babel.lazy_gettext("Report"))
        assert str(i18n.lazy_pgettext("you haven't", "completed a quiz")) == str(
            flask_babel.lazy_pgettext("you haven't", "completed a quiz"))
        page = render_template_string('{{ _("Report") }}|{{ ngettext("%(num)s day", "%(num)s days", 3) }}')
        assert page == flask_babel.gettext("Report") + "|" + flask_babel.ngettext("%(num)s day", "%(num)s days", 3)
        if lang == "es":
            assert i18n.gettext("Report") != "Report"  # the Spanish catalogue is really in use


def test_translations_follow_force_locale(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.gettext("Report") == "Report"
        with flask_babel.force_locale("es"):
            assert i18n.gettext("Report") == flask_babel.gettext("Report") != "Report"
            assert render_template_string('{{ _("Report") }}') == flask_babel.gettext("Report")
        assert i18n.gettext("Report") == "Report"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_number_matches_babel(app, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        locale = flask_babel.get_locale()
        for value in (0, 1, 999, 1000, 1234, 12345, 1234567, -4321, None):
            assert i18n.number(value) == numbers.format_decimal(int(value or 0), locale=locale)
            assert i18n.number(value) == flask_babel.format_decimal(int(value or 0))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_timeago_and_countdown_match_babel(app, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        locale = flask_babel.get_locale()
        for s in SECONDS:
            for micro in (0, 999_999):
                delta = timedelta(seconds=s, microseconds=micro)
                assert i18n.format_timedelta(-delta, add_direction=True, locale=locale) == dates.format_timedelta(
                    -delta, threshold=1.0, add_direction=True, locale=locale), s
                assert i18n.format_timedelta(delta, add_direction=False, locale=locale) == dates.format_timedelta(
                    delta, threshold=1.0, locale=locale), s
            assert i18n.countdown(s) == dates.format_timedelta(
                max(timedelta(seconds=s), timedelta(minutes=1)), threshold=1.0, locale=locale)
        now = utcnow()
        for s in (0, 5, 90, 7200, 86400 * 3):
            assert i18n.timeago(now - timedelta(seconds=s), now) == dates.format_timedelta(
                -timedelta(seconds=s), threshold=1.0, add_direction=True, locale=locale)
        assert i18n.timeago(now + timedelta(hours=1), now) == dates.format_timedelta(
            timedelta(0), threshold=1.0, add_direction=True, locale=locale)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_day_matches_flask_babel(app, lang):
    from datetime import date

    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for value in (date(2026, 1, 1), date(2026, 12, 2), date(2027, 5, 31)):
            for fmt in ("medium", "long", "d MMM", "d MMM yyyy"):
                assert i18n.format_day(value, fmt) == flask_babel.format_date(value, fmt)
                assert i18n.format_day(value, fmt) == i18n.format_day(value, fmt)  # the remembered text
            assert i18n.day(value) == flask_babel.format_date(value, "medium")
        with flask_babel.force_locale("es" if lang == "en" else "en"):
            assert i18n.format_day(date(2026, 12, 2), "long") == flask_babel.format_date(date(2026, 12, 2), "long")


def test_a_large_group_headline_groups_its_number(app):
    """"3,607 people reached Spark!", not "3607 people …" (issue 12 follow-up)."""
    from types import SimpleNamespace

    from thrive.web.phrases import group_sentence

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        group = SimpleNamespace(kind="activity", actor=None, activity_type="quiz_completed", people=3607, count=3607,
                                in_circle=False, tier=None, circle_name=None)
        assert group_sentence(group).startswith("3,607 people ")


#: Templates exercising the one-call Jinja callables: variables escaped into the translation, ``%%``, plural
#: forms with ``num``, contexts, ``{% trans %}`` blocks, and a template without autoescaping.
_JINJA_CASES = [
    '{{ _("Report") }}',
    '{{ _("Welcome back, %(name)s. Every bit of showing up counts.", name="<b>Ana</b>") }}',
    '{{ gettext("100%% of %(what)s", what="a & b") }}',
    '{{ _("50%%") }}',
    '{{ _("Fish & <em>chips</em>") }}|{{ _("<b>%(n)s</b> & more", n="<i>") }}',  # the message is markup
    '{% for n in (0, 1, 2, 3607) %}{{ ngettext("%(num)s day", "%(num)s days", n) }};{% endfor %}',
    '{{ ngettext("%(num)s point to %(tier)s", "%(num)s points to %(tier)s", 2, tier="<i>Spark</i>") }}',
    '{{ pgettext("you haven\'t", "completed a quiz") }}|{{ npgettext("people", "%(num)s person", '
    '"%(num)s people", 5) }}',
    '{% trans name="<x>" %}Welcome back, {{ name }}. Every bit of showing up counts.{% endtrans %}',
    '{% trans count=3 %}{{ count }} day{% pluralize %}{{ count }} days{% endtrans %}',
]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_jinja_callables_render_as_the_i18n_extension_does(app, lang, autoescape):
    """Thrive's one-call ``_``/``gettext``/``ngettext``/``pgettext``/``npgettext`` give the stock newstyle text."""
    stock = jinja2.Environment(extensions=["jinja2.ext.i18n"])  # the extension's own callables
    stock.install_gettext_callables(
        gettext=lambda s: i18n.request_translations().ugettext(s),
        ngettext=lambda s, p, n: i18n.request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: i18n.request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: i18n.request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    assert stock.globals["_"] is not app.jinja_env.globals["_"]
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for source in _JINJA_CASES:
            ours = app.jinja_env.from_string("{% autoescape " + str(autoescape).lower() + " %}" + source
                                             + "{% endautoescape %}").render()
            theirs = stock.from_string("{% autoescape " + str(autoescape).lower() + " %}" + source
                                       + "{% endautoescape %}").render()
            assert ours == theirs, source
    assert app.jinja_env.globals["_"] is i18n.JINJA_GETTEXT_CALLABLES["_"]
