"""The one validator of an award request (§4.1, §13) — shared by every way an event comes in.

The integration API (single and batch), ``flask thrive import``, the OULAD
importer and :func:`thrive.services.points.award.award` itself check an event
with these functions, so a row that the importer accepts is exactly a body the
API accepts, with the same messages:

- :func:`parse_event` takes the JSON shape of §13 (``user`` = the learner's
  external id, ``occurred_at`` an ISO 8601 string) and returns an
  :class:`EventInput`;
- :func:`check_fields` checks the typed fields (lengths, JSON object,
  integer points, instant not in the future) — ``award()`` calls it on every
  request, so code calling ``award()`` directly is held to the same rules.

Rule checks (unknown or disabled activity type, points allowed, description
required) belong to ``award()`` alone: they need the registry under the
award's transaction and are never repeated by callers.
Errors are :class:`ValidationError` (400) with code ``missing_field`` for an
absent required field, ``invalid_occurred_at`` for a future instant and
``invalid_request`` otherwise; the message always names the field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from thrive.services.errors import ValidationError
from thrive.timeutil import as_utc

MAX_EVENT_KEY_LENGTH = 255
MAX_ACTIVITY_TYPE_LENGTH = 64
MAX_EXTERNAL_ID_LENGTH = 128
MAX_METADATA_BYTES = 8 * 1024
MAX_DESCRIPTION_LENGTH = 2000
#: Awards may be back-dated freely but not dated in the future beyond this skew.
MAX_FUTURE_SKEW = timedelta(minutes=5)

#: Fields of the event shape (§13); ``user`` is the learner's external id.
EVENT_FIELDS = ("user", "activity_type", "event_key", "occurred_at", "metadata", "description", "points")
REQUIRED_FIELDS = ("user", "activity_type", "event_key")


@dataclass(frozen=True)
class EventInput:
    """A well-formed event: the arguments of ``award()`` with the learner still named by external id.

    ``occurred_at`` is a UTC instant or None (= now); ``metadata`` a JSON object or None.
    """

    user: str
    activity_type: str
    event_key: str
    occurred_at: datetime | None = None
    metadata: dict | None = None
    description: str | None = None
    points: int | None = None


def _required_string(raw: dict, name: str, limit: int) -> str:
    value = raw.get(name)
    if value is None:
        raise ValidationError(f"{name} is required", code="missing_field")
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string")
    if not value.strip():
        raise ValidationError(f"{name} must not be empty")
    if len(value) > limit:
        raise ValidationError(f"{name} is longer than {limit} characters")
    return value


def parse_instant(value) -> datetime:
    """An ISO 8601 string (no offset = UTC) → aware UTC datetime; raises ``ValidationError``."""
    if not isinstance(value, datetime | str):
        raise ValidationError("occurred_at must be an ISO 8601 string")
    try:
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
        return as_utc(instant)
    except ValueError:
        raise ValidationError(f"occurred_at is not an ISO 8601 instant: {str(value)[:40]!r}") from None
    except OverflowError:   # e.g. year 1 with a negative offset (issue 10)
        raise ValidationError(f"occurred_at must lie after {MIN_OCCURRED_YEAR}", code="invalid_occurred_at") from None


def parse_event(raw) -> EventInput:
    """Check one event in the JSON shape of §13 and return it typed.

    ``raw`` is a dict of JSON values (CSV cells already converted). Unknown
    fields are refused (a misspelt ``event-key`` is an error, not ignored).
    Raises :class:`ValidationError` naming the field.
    """
    if not isinstance(raw, dict):
        raise ValidationError(f"expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in EVENT_FIELDS)
    if unknown:
        raise ValidationError("unknown field(s) " + ", ".join(repr(k) for k in unknown))
    user = _required_string(raw, "user", MAX_EXTERNAL_ID_LENGTH).strip()
    activity_type = _required_string(raw, "activity_type", MAX_ACTIVITY_TYPE_LENGTH).strip()
    event_key = _required_string(raw, "event_key", MAX_EVENT_KEY_LENGTH)
    occurred_at = raw.get("occurred_at")
    if occurred_at is not None:
        occurred_at = parse_instant(occurred_at)
    metadata, description, points = raw.get("metadata"), raw.get("description"), raw.get("points")
    check_fields(activity_type, event_key, metadata, description, points)
    return EventInput(user, activity_type, event_key, occurred_at, metadata, description, points)


#: Value types a JSON round trip gives back unchanged (exact types: no subclasses such as enums).
_PLAIN_JSON_VALUES = frozenset({str, int, float, bool, type(None)})


def _json_copy(metadata: dict, encoded: str) -> dict:
    """A plain JSON copy of ``metadata``: ``dict(metadata)`` when it is flat with string keys and plain values
    (what ``json.loads(encoded)`` would give), else ``json.loads(encoded)``."""
    plain = _PLAIN_JSON_VALUES
    if all(type(k) is str and type(v) in plain for k, v in metadata.items()) and \
            not any(type(v) is float and v != v for v in metadata.values()):
        return dict(metadata)
    return json.loads(encoded)


def check_fields(activity_type, event_key, metadata, description, points) -> dict | None:
    """Check the typed fields of an award request; return ``metadata`` as a plain JSON copy.

    Raises :class:`ValidationError` (``missing_field`` for an empty type or key).
    """
    if not isinstance(activity_type, str) or not activity_type.strip():
        raise ValidationError("activity_type is required", code="missing_field")
    if not isinstance(event_key, str) or not event_key.strip():
        raise ValidationError("event_key is required", code="missing_field")
    if len(event_key) > MAX_EVENT_KEY_LENGTH:
        raise ValidationError(f"event_key is longer than {MAX_EVENT_KEY_LENGTH} characters")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationError("metadata must be a JSON object")
        try:
            encoded = json.dumps(metadata, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"metadata is not JSON-serialisable: {exc}") from exc
        if len(encoded) > MAX_METADATA_BYTES:
            raise ValidationError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
        metadata = _json_copy(metadata, encoded)
    if description is not None:
        if not isinstance(description, str):
            raise ValidationError("description must be a string")
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise ValidationError(f"description is longer than {MAX_DESCRIPTION_LENGTH} characters")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int)):
        raise ValidationError("points must be an integer")
    return metadata


#: Earliest year an ``occurred_at`` may lie in (issue 10: year 1 in a negative-offset zone overflows).
MIN_OCCURRED_YEAR = 1971


def check_instant(occurred_at, now: datetime) -> datetime:
    """A given ``occurred_at`` as a UTC instant, not after ``now`` + the allowed skew (``invalid_occurred_at``)."""
    if not isinstance(occurred_at, datetime):
        raise ValidationError("occurred_at must be a datetime")
    if occurred_at.year < MIN_OCCURRED_YEAR:  # also keeps local dates of any zone from overflowing
        raise ValidationError(f"occurred_at must lie after {MIN_OCCURRED_YEAR}", code="invalid_occurred_at")
    try:
        occurred_at = as_utc(occurred_at)
    except OverflowError:
        raise ValidationError(f"occurred_at must lie after {MIN_OCCURRED_YEAR}", code="invalid_occurred_at") from None
    if occurred_at > now + MAX_FUTURE_SKEW:
        raise ValidationError("occurred_at lies in the future", code="invalid_occurred_at")
    return occurred_at
