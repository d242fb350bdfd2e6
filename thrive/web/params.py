"""Whole numbers from requests — form fields, query parameters, cursors, URL segments — parsed one safe way.

Python's ``int()`` accepts any size and non-ASCII digits ("١٢", "²" passes
``str.isdigit`` but not ``int``), and a number beyond 64 bits makes the
database driver fail with a 500. Everything here accepts ASCII digits only,
within :data:`MAX_ID` (2^63 − 1, the widest database integer), and raises a
``ValidationError`` (400) otherwise; the ``int`` URL converter answers 404.
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter as _WerkzeugIntegerConverter

from thrive.services.errors import ValidationError

MAX_ID = 2**63 - 1
#: Page numbers above this are refused (an offset of more would overflow or scan for nothing).
MAX_PAGE = 1_000_000
_MAX_DIGITS = len(str(MAX_ID))


def is_ascii_int(raw: object, maximum: int = MAX_ID) -> bool:
    """True when ``raw`` is a string of 1–19 ASCII digits whose value is at most ``maximum``."""
    return (isinstance(raw, str) and 0 < len(raw) <= _MAX_DIGITS and raw.isascii() and raw.isdigit()
            and int(raw) <= maximum)


def parse_int(raw: object, name: str, *, default: int | None = None, minimum: int = 1, maximum: int = MAX_ID,
              code: str = "invalid_request") -> int:
    """``raw`` (str or None) as an int in [minimum, maximum]; ``default`` if missing/empty; else ``ValidationError``."""
    if raw is None or raw == "":
        if default is not None:
            return default
        raise ValidationError(f"{name} is required", code=code)
    text = raw.strip() if isinstance(raw, str) else raw
    if not is_ascii_int(text, maximum) or int(text) < minimum:
        raise ValidationError(f"{name} must be a whole number from {minimum} to {maximum}", code=code)
    return int(text)


class IntegerConverter(_WerkzeugIntegerConverter):
    """The ``<int:…>`` URL converter, limited to ASCII digits within :data:`MAX_ID` (else: no route, 404)."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            from werkzeug.routing import ValidationError as RoutingValidationError

            raise RoutingValidationError()
        return number


def init_app(app) -> None:
    """Install :class:`IntegerConverter` as the app's ``int`` converter (before routes are added)."""
    app.url_map.converters["int"] = IntegerConverter
