"""Domain errors with stable machine codes (§13 error bodies)."""
from __future__ import annotations


class ThriveError(Exception):
    """Base class. ``code`` is a stable identifier, ``status`` the HTTP status the API maps it to."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class ValidationError(ThriveError):
    """Malformed input or a missing field (400)."""

    code = "invalid_request"
    status = 400


class FieldErrors(ValidationError):
    """Invalid input with one code per field: ``errors`` maps a field path (``rules.3.base_points``) → code.

    Subclasses set ``code`` and ``subject`` (how the message names the input,
    e.g. ``"the rule"``): the message reads "<subject> is not valid: field (code), …".
    """

    subject = "the input"

    def __init__(self, errors: dict[str, str]):
        super().__init__(f"{self.subject} is not valid: " + ", ".join(f"{k} ({v})" for k, v in errors.items()))
        self.errors = errors


class UnknownActivityType(ThriveError):
    code = "unknown_activity_type"
    status = 400


class NotFound(ThriveError):
    code = "not_found"
    status = 404


class UnknownLearner(NotFound):
    code = "unknown_user"


class ActivityDisabled(ThriveError):
    code = "activity_disabled"
    status = 422


class PointsOutOfRange(ThriveError):
    code = "points_out_of_range"
    status = 422


class EventKeyConflict(ThriveError):
    """An event key reused with another learner, activity type or payload (§4.3)."""

    code = "event_key_conflict"
    status = 422


class Conflict(ThriveError):
    code = "conflict"
    status = 409


def validate_week(week: str) -> str:
    """Return ``week`` if it is an ISO week label ``YYYY-Www``; raise :class:`ValidationError` (``invalid_week``)."""
    from thrive.timeutil import parse_week

    try:
        parse_week(week)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_week") from exc
    return week
