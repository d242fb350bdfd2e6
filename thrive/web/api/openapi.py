"""The OpenAPI 3 document of ``/api/v1`` (§13), generated from the code.

apispec builds it from the marshmallow schemas in ``schemas.py`` (the ones
that validate requests and shape responses) and the YAML operation in each
view's docstring, for every route of the ``api`` blueprint found in the URL
map — a new route without a documented operation shows up as a path without
operations, which the tests reject. Built once per app and cached.
"""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask

from . import schemas

TITLE = "Thrive integration API"
VERSION = "1.0.0"
DESCRIPTION = """\
Feed learner activity into Thrive's points platform and read learners'
progression. Authenticate with `Authorization: Bearer <api key>` (create a key
with `flask thrive create-api-key NAME`). Every error is JSON
`{"error": {"code": "...", "message": "..."}}`. Requests are rate limited per
API key (429 with `Retry-After`). See docs/api.md.
"""

#: Component name → request/response schema.
SCHEMAS = {  # nested schemas before the schemas that nest them
    "EventRequest": schemas.EventSchema,
    "BatchRequest": schemas.BatchSchema,
    "UserUpsert": schemas.UserUpsertSchema,
    "ErrorBody": schemas.ErrorBodySchema,
    "Error": schemas.ErrorSchema,
    "AwardResult": schemas.AwardResultSchema,
    "BatchItem": schemas.BatchItemSchema,
    "BatchSummary": schemas.BatchSummarySchema,
    "BatchResponse": schemas.BatchResponseSchema,
    "User": schemas.UserSchema,
    "Tier": schemas.TierSchema,
    "TierProgress": schemas.TierProgressSchema,
    "LevelProgress": schemas.LevelProgressSchema,
    "Lifetime": schemas.LifetimeSchema,
    "WeeklyGoal": schemas.WeeklyGoalSchema,
    "EarnedAchievement": schemas.EarnedAchievementSchema,
    "ActiveQuest": schemas.ActiveQuestSchema,
    "UserStatus": schemas.UserStatusSchema,
    "LedgerEntry": schemas.LedgerEntrySchema,
    "LedgerPage": schemas.LedgerPageSchema,
    "SignInLinkRequest": schemas.SignInLinkRequestSchema,
    "SignInLink": schemas.SignInLinkSchema,
}

#: Component response name → (description, example error codes).
ERROR_RESPONSES = {
    "BadRequest": ("Malformed JSON, a missing field, a bad type or value, or an unknown activity type.",
                   "malformed_json, missing_field, invalid_request, unknown_activity_type, invalid_occurred_at, "
                   "invalid_cursor, invalid_next"),
    "Unauthorized": ("No API key, or an unknown or revoked one.", "unauthorized"),
    "NotFound": ("Unknown user (external id).", "unknown_user"),
    "Conflict": ("The username is taken by another learner, or the learner is deactivated.",
                 "username_taken, learner_deactivated"),
    "PayloadTooLarge": ("The body exceeds the request size limit, or a batch holds too many events.",
                        "payload_too_large, batch_too_large"),
    "Unprocessable": ("The event key was used before with another user, activity type or payload; the activity "
                      "type is disabled; or points are out of the rule's range. Nothing was written.",
                      "event_key_conflict, activity_disabled, points_out_of_range, not_api_awardable (a "
                      "system-only activity type), occurred_at_too_old (beyond THRIVE_API_MAX_BACKDATE_DAYS)"),
    "RateLimited": ("Too many requests for this API key; retry after Retry-After seconds.", "rate_limited"),
}


def build_spec(app: Flask) -> APISpec:
    """Build the document for ``app``'s ``api`` blueprint routes (see module docstring)."""
    spec = APISpec(
        title=TITLE, version=VERSION, openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": DESCRIPTION},
        security=[{"bearerAuth": []}],
        tags=[{"name": "events", "description": "Awarding points"},
              {"name": "users", "description": "Learners and their progression"},
              {"name": "meta", "description": "This document"}],
    )
    spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An API key from `flask thrive create-api-key NAME`.",
    })
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for name, (description, codes) in ERROR_RESPONSES.items():
        spec.components.response(name, {
            "description": f"{description} Codes: {codes}.",
            "content": {"application/json": {"schema": "Error"}},
        })
    spec.components.parameter("ExternalId", "path", {
        "name": "external_id", "required": True,
        "description": "The learner's id in the integrating platform (at most 128 characters).",
        "schema": {"type": "string", "maxLength": schemas.MAX_EXTERNAL_ID_LENGTH},
    })
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("api."):
            spec.path(view=app.view_functions[rule.endpoint], app=app)
    return spec


def spec_dict(app: Flask) -> dict:
    """The document as a dict, built once per app."""
    cached = app.extensions.get("thrive_openapi")
    if cached is None:
        cached = app.extensions["thrive_openapi"] = build_spec(app).to_dict()
    return cached
