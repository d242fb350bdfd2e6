"""Usernames and display names: one normalisation and one set of rules for forms, API and CLI (§2, §8.4).

Names are shown to other learners, so two names that look alike must be the
same name, and a name must not be able to reorder or hide the text around it:

- usernames are ASCII letters, digits, ``.``, ``_`` and ``-`` (3–64), matched
  to the end of the string with ``\\Z`` (``$`` would accept a trailing newline,
  creating a visual twin of an existing learner);
- display names are normalised to Unicode NFC, trimmed, with inner runs of
  white space collapsed to one space (1–100 characters), and rejected when they
  hold control characters (NUL, newlines…), format characters (bidi overrides
  and isolates, zero-width spaces and joiners, the BOM), surrogates,
  private-use or unassigned code points.
"""
from __future__ import annotations

import re
import unicodedata

from thrive.services.errors import ValidationError

USERNAME_PATTERN = r"[A-Za-z0-9_.-]{3,64}\Z"
USERNAME_RE = re.compile(USERNAME_PATTERN)
MAX_DISPLAY_NAME = 100

#: Unicode general categories never allowed in a display name.
_FORBIDDEN_CATEGORIES = {"Cc": "control characters", "Cf": "invisible or direction-changing characters",
                         "Cs": "invalid characters", "Co": "private-use characters", "Cn": "unassigned characters"}


def clean_username(raw: str | None) -> str:
    """``raw`` trimmed, if it is a valid username; raises ``ValidationError`` (code ``invalid_username``)."""
    name = (raw or "").strip(" ")
    if not isinstance(raw, str) or not USERNAME_RE.match(name):
        raise ValidationError("username must be 3–64 letters, digits, '.', '_' or '-'", code="invalid_username")
    return name


def clean_display_name(raw: str | None) -> str:
    """The display name normalised (NFC, trimmed, white space collapsed) or ``ValidationError``.

    Code ``invalid_display_name``; the message says what is wrong (length, or
    which kind of character is not allowed).
    """
    if not isinstance(raw, str):
        raise ValidationError("display name must be text", code="invalid_display_name")
    text = unicodedata.normalize("NFC", raw)
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" and category == "Cc":
            raise ValidationError("display name must be on one line", code="invalid_display_name")
        if category in _FORBIDDEN_CATEGORIES:
            raise ValidationError(f"display name must not contain {_FORBIDDEN_CATEGORIES[category]}",
                                  code="invalid_display_name")
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise ValidationError(f"display name must be 1–{MAX_DISPLAY_NAME} characters", code="invalid_display_name")
    return name
