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

from babel import dates as babel_dates
from flask import Flask, request
from flask_babel import format_date, format_decimal, format_timedelta, get_locale
from flask_login import current_user

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


def number(value) -> str:
    """A whole number with the locale's grouping ("1,234")."""
    return format_decimal(int(value or 0))


def timeago(instant: datetime | None, now: datetime | None = None) -> str:
    """How long ago a UTC ``instant`` was, in words ("5 minutes ago"); "" for None."""
    if instant is None:
        return ""
    delta = as_utc(instant) - (as_utc(now) if now else utcnow())
    if delta > timedelta(0):
        delta = timedelta(0)
    return format_timedelta(delta, add_direction=True, threshold=1.0)


def countdown(seconds: int | float | timedelta) -> str:
    """A duration in words ("2 days", "5 hours", "1 minute"), for "… in <countdown>"."""
    if not isinstance(seconds, timedelta):
        seconds = timedelta(seconds=max(int(seconds or 0), 0))
    return format_timedelta(max(seconds, timedelta(minutes=1)), threshold=1.0)


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date in the locale's format; instants are read as UTC dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).date()
    return format_date(value, fmt)


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
    locale = get_locale() or DEFAULT_LOCALE
    instant = as_utc(value).astimezone(zone(reader_timezone_name()))
    if fmt not in DATE_WIDTHS:
        return babel_dates.format_datetime(instant, fmt, locale=locale)
    joined = babel_dates.get_datetime_format(fmt, locale=locale)
    return (joined.replace("{1}", babel_dates.format_date(instant, fmt, locale=locale))
            .replace("{0}", babel_dates.format_time(instant, "short", locale=locale)))


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with :func:`select_locale` and register the filters and globals."""
    from thrive.extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(number=number, timeago=timeago, countdown=countdown, day=day,
                                localtime=localtime)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES)

    @app.context_processor
    def inject_locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale() or DEFAULT_LOCALE)}
