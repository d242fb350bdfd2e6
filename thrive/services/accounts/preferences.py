"""A learner's UI language (§7: English and Spanish; None follows the browser)."""
from __future__ import annotations

from thrive.db import write_transaction
from thrive.models import Learner
from thrive.services.errors import NotFound, ValidationError

#: Locales the UI ships (catalogues under thrive/translations).
SUPPORTED_LOCALES = ("en", "es")


def set_locale(learner_id: int, locale: str | None) -> str | None:
    """Store the learner's language: ``"en"``, ``"es"``, or None/"" for automatic (Accept-Language).

    Raises ``ValidationError`` for another value and ``NotFound`` for an unknown learner.
    """
    locale = (locale or "").strip() or None
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise ValidationError(f"language must be one of {', '.join(SUPPORTED_LOCALES)}", code="invalid_locale")
    with write_transaction() as session:
        learner = session.get(Learner, learner_id)
        if learner is None:
            raise NotFound("unknown learner")
        learner.locale = locale
    return locale
