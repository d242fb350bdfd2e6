"""New-password rules (§15, NIST SP 800-63B): at least 8 characters and not guessable.

Guessability is estimated by ``zxcvbn`` (pinned) with the learner's own
username, display name and email as context, so "sarah2024" is refused for
Sarah. The minimum score (0–4) is ``THRIVE_PASSWORD_MIN_SCORE`` (default 3).
The rules apply where a person chooses a password (sign-up, CLI admin);
existing passwords keep working.
"""
from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

from thrive.services.errors import ValidationError

MIN_PASSWORD_LENGTH = 8
DEFAULT_MIN_SCORE = 3
#: zxcvbn looks at this many characters (it is slow on very long inputs; longer is not weaker).
_ZXCVBN_MAX = 100


def min_score() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return int(current_app.config.get("THRIVE_PASSWORD_MIN_SCORE", DEFAULT_MIN_SCORE))
    return DEFAULT_MIN_SCORE


def check_new_password(password: str, context: Iterable[str | None] = ()) -> None:
    """Raise ``ValidationError`` (code ``weak_password``) with a helpful message when ``password`` is weak.

    ``context``: the learner's username, display name, email — words an attacker would try first.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", code="weak_password")
    inputs = [w for value in context if value for w in [value, *value.replace("@", " ").replace(".", " ").split()]]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    if result["score"] >= min_score():
        return
    feedback = result.get("feedback") or {}
    hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    hint = " ".join(h.strip() for h in hints if h and h.strip())
    raise ValidationError(
        "This password is too easy to guess. " + (hint + " " if hint else "")
        + "Try a longer passphrase of a few unrelated words.", code="weak_password")
