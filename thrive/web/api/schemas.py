"""Marshmallow schemas of the integration API (§13).

The same schemas validate requests, shape responses and generate the OpenAPI
document (``openapi.py``), so the document cannot drift from the code.
Request schemas raise on unknown fields, so a misspelt field (``event-key``)
is a 400 instead of being silently ignored.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from thrive.services.points.events import MAX_DESCRIPTION_LENGTH, MAX_EVENT_KEY_LENGTH, MAX_EXTERNAL_ID_LENGTH

from ...timeutil import as_utc

#: ``GET /users/<id>/events``: default and maximum page size.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _doc(text: str, **extra) -> dict:
    """Field metadata for the OpenAPI document."""
    return {"description": text, **extra}


class UtcDateTime(fields.DateTime):
    """An ISO 8601 instant answered with its UTC offset (SQLite hands back naive UTC datetimes)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)


# --- requests -------------------------------------------------------------------------------------------------


class EventSchema(Schema):
    """One award request: ``POST /api/v1/events`` and each item of a batch (§4.1, §13).

    Documents the shape in the OpenAPI document; requests are validated by the one event
    validator, :func:`thrive.services.points.events.parse_event` (same limits, same fields).
    """

    class Meta:
        unknown = RAISE

    user = fields.String(required=True, validate=validate.Length(1, MAX_EXTERNAL_ID_LENGTH),
                         metadata=_doc("The learner's external id (set with PUT /api/v1/users/{external_id}).",
                                       example="lms-4711"))
    activity_type = fields.String(required=True, validate=validate.Length(1, 64),
                                  metadata=_doc("A key of the activity registry (§4.2).", example="quiz_completed"))
    event_key = fields.String(required=True, validate=validate.Length(1, MAX_EVENT_KEY_LENGTH),
                              metadata=_doc("Idempotency key, unique forever (§4.3). Reusing it with the same "
                                            "payload answers the original result; with another payload, 422.",
                                            example="lms:quiz-attempt:981273"))
    occurred_at = fields.DateTime(format="iso", allow_none=True, load_default=None,
                                  metadata=_doc("When it happened, ISO 8601 (no offset = UTC). Defaults to now; "
                                                "may lie in the past, not in the future.",
                                                example="2026-03-02T14:05:00Z"))
    metadata = fields.Dict(keys=fields.String(), allow_none=True, load_default=None,
                           metadata=_doc("Free JSON object (≤ 8 KiB), e.g. difficulty, score, topic.",
                                         example={"difficulty": "advanced", "score": 100, "topic": "DDD"}))
    description = fields.String(allow_none=True, load_default=None,
                                validate=validate.Length(max=MAX_DESCRIPTION_LENGTH),
                                metadata=_doc("Free text shown in the learner's history."))
    points = fields.Integer(strict=True, allow_none=True, load_default=None,
                            metadata=_doc("A custom amount, only for activity types that allow one (within the "
                                          "rule's min/max; otherwise 422)."))


class BatchSchema(Schema):
    """``POST /api/v1/events/batch``: the envelope; items are validated one by one."""

    class Meta:
        unknown = RAISE

    events = fields.List(fields.Raw(metadata={"type": "object"}), required=True,
                         metadata=_doc("Up to THRIVE_API_BATCH_MAX (default 1,000) objects shaped like "
                                       "EventRequest; each is validated and answered on its own."))


class UserUpsertSchema(Schema):
    """``PUT /api/v1/users/<external_id>``: creating needs ``username``; updating changes given fields only."""

    class Meta:
        unknown = RAISE

    username = fields.String(validate=validate.Length(3, 64),
                             metadata=_doc("3–64 letters, digits, '.', '_' or '-'; unique.", example="ada"))
    display_name = fields.String(validate=validate.Length(1, 100), metadata=_doc("Shown to others.",
                                                                                 example="Ada Lovelace"))
    email = fields.String(allow_none=True, validate=validate.Length(max=254),
                          metadata={**_doc("Optional; an email address (else 400 invalid_email)."),
                                    "format": "email"})
    timezone = fields.String(validate=validate.Length(1, 64),
                             metadata=_doc("IANA time zone; defines the learner's local day (caps, streaks).",
                                           example="Europe/London"))
    topics = fields.List(fields.String(), allow_none=True,
                         metadata=_doc("Interests, at most 20.", example=["python", "data"]))


class EventsQuerySchema(Schema):
    """Query string of ``GET /api/v1/users/<external_id>/events``."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE),
                           metadata=_doc(f"Page size, 1–{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."))
    cursor = fields.String(load_default=None,
                           metadata=_doc("Opaque cursor: ``next_cursor`` of the previous page, unchanged."))


# --- responses ------------------------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata=_doc("Stable machine code, e.g. unknown_user.",
                                                      example="unknown_user"))
    message = fields.String(required=True, metadata=_doc("Human-readable explanation."))


class ErrorSchema(Schema):
    """Every error: ``{"error": {"code", "message"}}`` (§13)."""

    error = fields.Nested(ErrorBodySchema, required=True)


class AwardResultSchema(Schema):
    """What an award did (``AwardResult``, §4.1). Points are integers."""

    points_awarded = fields.Integer(required=True, metadata=_doc("Points this event added (0 when capped)."))
    capped = fields.Boolean(required=True, metadata=_doc("Over a daily/weekly/lifetime cap: recorded with 0 points."))
    duplicate = fields.Boolean(required=True, metadata=_doc("The event key was already used with this payload; "
                                                            "this is the original result and nothing changed."))
    total_points = fields.Integer(required=True, metadata=_doc("The learner's total after the award."))
    weekly_points = fields.Integer(required=True, metadata=_doc("Points in the current platform ISO week."))
    tier = fields.String(required=True, metadata=_doc("Tier key after the award.", example="spark"))
    level = fields.Integer(required=True)
    tier_upgraded = fields.Boolean(required=True)
    level_upgraded = fields.Boolean(required=True)
    event_id = fields.Integer(required=True, metadata=_doc("Ledger entry id."))
    activity_type = fields.String(required=True)
    event_key = fields.String(required=True)
    occurred_at = fields.String(required=True, metadata=_doc("ISO 8601 UTC instant."))
    current_streak = fields.Integer(required=True, metadata=_doc("Days."))
    levels_gained = fields.List(fields.Integer(), required=True,
                                metadata=_doc("Every level crossed by this award (several for a large award)."))
    tiers_gained = fields.List(fields.String(), required=True, metadata=_doc("Every tier crossed by this award."))


class BatchItemSchema(Schema):
    """One answer of a batch, in request order: a result or an error."""

    index = fields.Integer(required=True, metadata=_doc("Position in the request's events list (0-based)."))
    status = fields.Integer(required=True, metadata=_doc("What the single-event endpoint would have answered: "
                                                         "201 awarded, 200 duplicate, 4xx error."))
    result = fields.Nested(AwardResultSchema, metadata=_doc("Present when status is 200 or 201."))
    error = fields.Nested(ErrorBodySchema, metadata=_doc("Present when status is 4xx."))


class BatchSummarySchema(Schema):
    awarded = fields.Integer(required=True, metadata=_doc("New ledger entries (including capped ones)."))
    duplicates = fields.Integer(required=True)
    errors = fields.Integer(required=True)


class BatchResponseSchema(Schema):
    results = fields.List(fields.Nested(BatchItemSchema), required=True)
    summary = fields.Nested(BatchSummarySchema, required=True)


class UserSchema(Schema):
    """A learner's profile as the API sees it."""

    external_id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    timezone = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    created_at = UtcDateTime(format="iso", required=True)


class TierSchema(Schema):
    key = fields.String(required=True, metadata=_doc("Stable key.", example="spark"))
    name = fields.String(required=True, metadata={"example": "Spark"})
    threshold = fields.Integer(required=True, metadata=_doc("Points needed."))
    emoji = fields.String(required=True)
    tagline = fields.String(required=True)


class TierProgressSchema(Schema):
    tier = fields.Nested(TierSchema, required=True)
    next_tier = fields.Nested(TierSchema, allow_none=True, required=True,
                              metadata=_doc("null at the top of the ladder."))
    points_to_next = fields.Integer(required=True)
    percent = fields.Integer(required=True, metadata=_doc("0–100."))


class LevelProgressSchema(Schema):
    level = fields.Integer(required=True)
    next_level_at = fields.Integer(required=True, metadata=_doc("Total points at which the next level starts."))
    points_to_next = fields.Integer(required=True)
    percent = fields.Integer(required=True, metadata=_doc("0–100."))


class LifetimeSchema(Schema):
    """Lifetime counters (§5.4)."""

    quizzes_completed = fields.Integer(required=True)
    projects_created = fields.Integer(required=True)
    comments_posted = fields.Integer(required=True)
    side_quests_completed = fields.Integer(required=True)


class WeeklyGoalSchema(Schema):
    """One of the learner's weekly goals for the current week (§6.2)."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, metadata=_doc("activity_count, streak_days or new_quiz_topics."))
    target = fields.Integer(required=True)
    progress = fields.Integer(required=True)
    reward = fields.Integer(required=True, metadata=_doc("Points awarded on completion."))
    completed = fields.Boolean(required=True)
    completed_at = UtcDateTime(format="iso", allow_none=True, required=True)


class EarnedAchievementSchema(Schema):
    """An achievement the learner holds (§10); revoked ones are absent."""

    key = fields.String(required=True, metadata=_doc("The achievement's key.", example="first-quiz"))
    name = fields.String(required=True)
    granted_at = UtcDateTime(format="iso", required=True,
                             metadata=_doc("UTC instant the criteria became true (backfilled ones included)."))
    visibility = fields.String(required=True, metadata=_doc(
        "shown, featured or private. Private: the learner keeps it off their profile; show it only to them."))


class ActiveQuestSchema(Schema):
    """A side quest the learner has started and not completed yet, in its current period (§10)."""

    key = fields.String(required=True)
    title = fields.String(required=True)
    activity_type = fields.String(required=True, metadata=_doc("What counts toward it."))
    topic = fields.String(allow_none=True, required=True, metadata=_doc("Only awards with this metadata.topic count."))
    progress = fields.Integer(required=True, metadata=_doc("Matching activities since the start."))
    target = fields.Integer(required=True)
    reward = fields.Integer(required=True, metadata=_doc("Points awarded on completion."))
    started_at = UtcDateTime(format="iso", required=True)
    ends_at = UtcDateTime(format="iso", allow_none=True, required=True,
                          metadata=_doc("End of the quest's window, or null when open-ended."))


class UserStatusSchema(Schema):
    """``GET /api/v1/users/<external_id>``: the learner's own progression (§5, §13)."""

    user = fields.String(required=True, metadata=_doc("External id."))
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    total_points = fields.Integer(required=True)
    weekly_points = fields.Integer(required=True, metadata=_doc("Points in the current platform ISO week."))
    week = fields.String(required=True, metadata=_doc("Current platform ISO week.", example="2026-W10"))
    tier = fields.String(required=True, metadata=_doc("Tier key (never decreases).", example="spark"))
    tier_progress = fields.Nested(TierProgressSchema, required=True)
    level = fields.Integer(required=True)
    level_progress = fields.Nested(LevelProgressSchema, required=True)
    current_streak = fields.Integer(required=True, metadata=_doc("Days, as of the learner's local today."))
    longest_streak = fields.Integer(required=True)
    grace_days = fields.Integer(required=True, metadata=_doc("Banked grace days (0–2, §5.3)."))
    last_active_date = fields.Date(allow_none=True, required=True, metadata=_doc("Learner's local date."))
    lifetime = fields.Nested(LifetimeSchema, required=True)
    weekly_goals = fields.List(fields.Nested(WeeklyGoalSchema), required=True,
                               metadata=_doc("This week's goals (empty until the weekly job creates them)."))
    achievements = fields.List(fields.Nested(EarnedAchievementSchema), required=True,
                               metadata=_doc("Achievements held, oldest first."))
    quests = fields.List(fields.Nested(ActiveQuestSchema), required=True,
                         metadata=_doc("Side quests in progress, with progress and target."))


class LedgerEntrySchema(Schema):
    """One ledger entry (append-only, §4.4)."""

    event_id = fields.Integer(required=True, attribute="id")
    activity_type = fields.String(required=True)
    category = fields.String(allow_none=True, required=True)
    points = fields.Integer(required=True)
    capped = fields.Boolean(required=True)
    event_key = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(allow_none=True, required=True, attribute="meta")
    occurred_at = UtcDateTime(format="iso", required=True, metadata=_doc("UTC instant."))
    local_date = fields.Date(required=True, metadata=_doc("The learner's local date of occurred_at."))
    week = fields.String(required=True, metadata=_doc("Platform ISO week."))


class LedgerPageSchema(Schema):
    """A page of the ledger, newest first."""

    events = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata=_doc("null on the last page."))
    next = fields.String(allow_none=True, required=True, metadata=_doc("URL of the next page, or null."))


# --- sign-in links (issue 13) ----------------------------------------------------------------------------------


class SignInLinkRequestSchema(Schema):
    """``POST /api/v1/users/<external_id>/sign-in-links`` body (optional): where the link lands."""

    class Meta:
        unknown = RAISE

    next = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=512),
                         metadata=_doc("A Thrive page path to land on after signing in (default: the home page). "
                                       "Only paths of Thrive's own pages are accepted.", example="/journey"))


class SignInLinkSchema(Schema):
    """A new one-time sign-in link."""

    url = fields.String(required=True, metadata=_doc(
        "Send the learner's browser here (a redirect). It signs the learner in once and lands on next.",
        example="https://thrive.example.org/sign-in/3q2-7wEvhK0pA4qX8n1dQyZ1b7lH0CqS2l5aV9mX4tI"))
    expires_at = UtcDateTime(format="iso", required=True, metadata=_doc(
        "When the link stops working (UTC), THRIVE_SIGN_IN_LINK_SECONDS after it was issued (default 300).",
        example="2026-03-02T14:10:00+00:00"))
