"""Locale selection and the Babel-backed Jinja filters (§7: English and Spanish).

The locale is the signed-in learner's own setting (``learners.locale``), else
the best match of the browser's ``Accept-Language``, else English. Numbers,
dates, relative times and countdowns are formatted by Babel (through
Flask-Babel) in that locale — never by hand (STYLE.md).

Filters registered on the app:

- ``number``: ``1234`` → "1,234" (en) / "1234" (es, CLDR);
- ``timeago``: a UTC instant → "5 minutes ago" / "hace 5 minutos";
- ``countdown``: seconds → "2 days" / "2 días" (the largest unit, Babel's rounding);
- ``day``: a date or instant → "2 Dec 2026" (``format_date``, medium);
- ``localtime``: a UTC instant in the reader's time zone → "Dec 2, 2026, 2:05 PM" / "2 dic 2026, 14:05".
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from babel import dates, numbers
from flask import Flask, request
from flask.globals import _cv_app
from flask_babel import format_date, get_locale, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from thrive.timeutil import as_utc, platform_timezone_name, utcnow, zone

#: Languages the UI ships (a catalogue under thrive/translations/<code> for each but English).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LOCALE = "en"


def select_locale() -> str:
    """The request's locale: the learner's setting, else ``Accept-Language``, else English."""
    try:
        chosen = current_user.locale if current_user.is_authenticated else None
    except AttributeError:  # outside a request with a user loader (CLI, jobs)
        chosen = None
    if chosen in LANGUAGES:
        return chosen
    if request:
        return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def _babel_state():
    """The request's Flask-Babel namespace (``g._flask_babel``) read without proxies, or None outside one."""
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g.__dict__.get("_flask_babel")


def request_translations():
    """The request's gettext catalogue, as ``flask_babel.get_translations()`` returns it, but cheaper.

    Flask-Babel resolves the domain, the context and the locale through three
    context-local lookups on every string (~10 proxy reads); pages translate
    hundreds of strings. The catalogue is remembered on the request's ``g``
    for the locale and domain Flask-Babel holds there (so a locale change,
    e.g. ``force_locale``, is followed). Outside a request: Flask-Babel's answer.
    """
    ns = _babel_state()
    if ns is not None:
        cached = ns.__dict__.get("thrive_translations")
        if cached is not None and cached[0] is ns.__dict__.get("babel_locale") \
                and cached[1] is ns.__dict__.get("babel_domain"):
            return cached[2]
    translations = get_translations()
    ns = _babel_state()
    if ns is not None:
        ns.thrive_translations = (ns.__dict__.get("babel_locale"), ns.__dict__.get("babel_domain"), translations)
    return translations


def request_locale():
    """The request's Babel locale (``flask_babel.get_locale()``, read from ``g`` once selected)."""
    ns = _babel_state()
    locale = None if ns is None else ns.__dict__.get("babel_locale")
    return locale if locale is not None else get_locale()


def gettext(string: str, **variables) -> str:
    """``flask_babel.gettext`` through :func:`request_translations` (same catalogue, same formatting)."""
    s = request_translations().ugettext(string)
    return s if not variables else s % variables


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """``flask_babel.ngettext`` through :func:`request_translations`; ``%(num)s`` is ``num`` grouped for the
    locale by :func:`number` ("3,607 people", where Flask-Babel leaves "3607 people")."""
    variables.setdefault("num", number(num))
    return request_translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    """``flask_babel.pgettext`` through :func:`request_translations`."""
    s = request_translations().upgettext(context, string)
    return s if not variables else s % variables


def npgettext(context: str, singular: str, plural: str, num: int, **variables) -> str:
    """``flask_babel.npgettext`` through :func:`request_translations` (``%(num)s`` grouped, as :func:`ngettext`)."""
    variables.setdefault("num", number(num))
    return request_translations().unpgettext(context, singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """``flask_babel.lazy_gettext`` resolved through :func:`gettext` (the request's remembered catalogue).

    For module-level texts read on every learner page (actions, feed phrases): Flask-Babel's own lazy
    string looks the catalogue up through the context locals each time it is read.
    """
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    """``flask_babel.lazy_pgettext`` resolved through :func:`pgettext`."""
    return LazyString(pgettext, context, string, **variables)


@lru_cache(maxsize=8192)
def _grouped(value: int, locale) -> str:
    return numbers.format_decimal(value, locale=locale)


def number(value) -> str:
    """A whole number with the locale's grouping ("1,234"); the same text as ``flask_babel.format_decimal``.

    Formatted strings are remembered per (value, locale) in this process: a page formats the same
    few small numbers again and again, and Babel's pattern formatting costs ~20 µs a call.
    """
    locale = request_locale()
    value = int(value or 0)
    return _grouped(value, locale) if locale is not None else numbers.format_decimal(value)


_timedelta_texts: dict[tuple, str] = {}


def format_timedelta(delta: timedelta, *, add_direction: bool, locale) -> str:
    """``babel.dates.format_timedelta(delta, threshold=1.0, add_direction=…, locale=…)``, remembered.

    Babel's text depends only on the unit it picks, the rounded value in that
    unit, the sign and the locale; those are computed here exactly as Babel
    does (``TIMEDELTA_UNITS``, granularity "second", threshold 1.0) and the
    text Babel gave for them is reused (~25 µs a call saved; a feed page has
    one per item). ``tests/web/test_i18n_fast.py`` compares it with Babel.
    """
    seconds = int(delta.days * 86400 + delta.seconds)
    unit, value = "second", 0
    for unit, secs_per_unit in dates.TIMEDELTA_UNITS:
        value = abs(seconds) / secs_per_unit
        if value >= 1.0 or unit == "second":
            if unit == "second" and value > 0:
                value = max(1, value)
            value = int(round(value))
            break
    key = (str(locale), add_direction, seconds >= 0, unit, value)
    text = _timedelta_texts.get(key)
    if text is None:
        text = dates.format_timedelta(delta, threshold=1.0, add_direction=add_direction, locale=locale)
        if len(_timedelta_texts) < 4096:
            _timedelta_texts[key] = text
    return text


def timeago(instant: datetime | None, now: datetime | None = None) -> str:
    """How long ago a UTC ``instant`` was, in words ("5 minutes ago"); "" for None."""
    if instant is None:
        return ""
    delta = as_utc(instant) - (as_utc(now) if now else utcnow())
    if delta > timedelta(0):
        delta = timedelta(0)
    return format_timedelta(delta, add_direction=True, locale=request_locale())


def countdown(seconds: int | float | timedelta) -> str:
    """A duration in words ("2 days", "5 hours", "1 minute"), for "… in <countdown>"."""
    if not isinstance(seconds, timedelta):
        seconds = timedelta(seconds=max(int(seconds or 0), 0))
    return format_timedelta(max(seconds, timedelta(minutes=1)), add_direction=False, locale=request_locale())


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date in the locale's format; instants are read as UTC dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).date()
    return format_day(value, fmt)


_day_texts: dict[tuple, str] = {}


def format_day(value: date, fmt: str = "medium") -> str:
    """``flask_babel.format_date(value, fmt)`` for a date, remembered per (date, format, locale) in this process."""
    key = (value, fmt, str(request_locale()))
    text = _day_texts.get(key)
    if text is None:
        text = format_date(value, fmt)
        if len(_day_texts) < 8192:
            _day_texts[key] = text
    return text


#: Babel's named widths: ``localtime`` shows the date at that width and the time (hours, minutes) short.
DATE_WIDTHS = ("short", "medium", "long", "full")


def reader_timezone_name() -> str:
    """The reader's IANA time zone: the signed-in learner's own, else the platform's (§4)."""
    try:
        if current_user.is_authenticated:
            return current_user.timezone
    except AttributeError:  # outside a request with a user loader (CLI, jobs)
        pass
    return platform_timezone_name()


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC instant in the reader's time zone and language, through Babel (issue 11); "" for None.

    ``fmt``: a width ("short", "medium", "long", "full") — the date at that width and the time
    as hours and minutes, joined as the locale joins them ("Dec 2, 2026, 2:05 PM" in English,
    "2 dic 2026, 14:05" in Spanish); anything else is a CLDR pattern ("yyyy-MM-dd").
    """
    if value is None:
        return ""
    locale = request_locale() or DEFAULT_LOCALE
    instant = as_utc(value).astimezone(zone(reader_timezone_name()))
    if fmt not in DATE_WIDTHS:
        return dates.format_datetime(instant, fmt, locale=locale)
    joined = dates.get_datetime_format(fmt, locale=locale)
    return (joined.replace("{1}", dates.format_date(instant, fmt, locale=locale))
            .replace("{0}", dates.format_time(instant, "short", locale=locale)))


@pass_context
def _jinja_gettext(__context: Context, __string: str, **variables) -> str:
    """Jinja's newstyle ``_()`` / ``gettext()``, in one call (issue 12).

    The i18n extension's own pair costs three ``Context.call``s, a name look-up and a ``%`` formatting per
    string — about fifty per page. Same result: the translation, ``Markup`` when autoescaping (so the
    variables are escaped into it), always treated as a format string (``%%`` reads ``%``).
    """
    rv = request_translations().ugettext(__string)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables if variables or "%" in rv else rv


@pass_context
def _jinja_ngettext(__context: Context, __singular: str, __plural: str, __num: int, **variables) -> str:
    """Jinja's newstyle ``ngettext()`` in one call (see :func:`_jinja_gettext`); ``%(num)s`` is ``__num``."""
    variables.setdefault("num", __num)
    rv = request_translations().ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


@pass_context
def _jinja_pgettext(__context: Context, __string_ctx: str, __string: str, **variables) -> str:
    """Jinja's newstyle ``pgettext()`` in one call (see :func:`_jinja_gettext`)."""
    rv = request_translations().upgettext(__string_ctx, __string)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables if variables or "%" in rv else rv


@pass_context
def _jinja_npgettext(__context: Context, __string_ctx: str, __singular: str, __plural: str, __num: int,
                     **variables) -> str:
    """Jinja's newstyle ``npgettext()`` in one call (see :func:`_jinja_gettext`)."""
    variables.setdefault("num", __num)
    rv = request_translations().unpgettext(__string_ctx, __singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


#: The template globals that replace the i18n extension's newstyle callables (``_`` is ``gettext`` itself).
JINJA_GETTEXT_CALLABLES = {"_": _jinja_gettext, "gettext": _jinja_gettext, "ngettext": _jinja_ngettext,
                           "pgettext": _jinja_pgettext, "npgettext": _jinja_npgettext}


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with :func:`select_locale` and register the filters and globals."""
    from thrive.extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel's callables look the catalogue up through the context locals for every string;
    # the same catalogue, remembered per request (see request_translations), called directly. The i18n
    # extension still compiles ``{% trans %}`` newstyle (the flag its installer sets) into calls of these.
    app.jinja_env.install_gettext_callables(gettext=gettext, ngettext=ngettext, pgettext=pgettext,
                                            npgettext=npgettext, newstyle=True)
    app.jinja_env.globals.update(JINJA_GETTEXT_CALLABLES)
    app.jinja_env.filters.update(number=number, timeago=timeago, countdown=countdown, day=day,
                                localtime=localtime)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES)

    @app.context_processor
    def inject_locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale() or DEFAULT_LOCALE)}
