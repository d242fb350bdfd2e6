"""Endpoints of the integration API ``/api/v1`` (§13).

Each view parses its input, calls one service, and answers JSON. This module holds the event
endpoints and the shared request parsing (``load``, ``json_body``); the learner endpoints
(``/users/…``) are in ``users.py``. Events are
validated by the one event validator (``services/points/events.py``) that the
importers and ``award()`` use too; the other bodies by the marshmallow schemas
of ``schemas.py``, which also document every shape in the OpenAPI document. The YAML after ``---`` in
each docstring is the operation of the OpenAPI document (``openapi.py``).
Errors are raised as :class:`ThriveError` and rendered by the app-wide handler
as ``{"error": {"code", "message"}}`` with the error's status.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from werkzeug.exceptions import InternalServerError

from thrive.db import WriteSlicer
from thrive.services.errors import ThriveError, ValidationError
from thrive.services.points.api_policy import check_api_event
from thrive.services.points.award import AwardResult, award
from thrive.services.points.batch import award_events
from thrive.services.points.events import parse_event

from ..hooks import json_error
from . import bp
from .schemas import MAX_EXTERNAL_ID_LENGTH, BatchResponseSchema, BatchSchema

_batch_schema = BatchSchema()
_batch_response_schema = BatchResponseSchema()

_REQUIRED_MESSAGE = "Missing data for required field."


@bp.errorhandler(InternalServerError)
def internal_error(_exc):
    """Unexpected failures answer §13-shaped JSON too; the failed transaction was rolled back."""
    return json_error(500, "internal_error",
                      "unexpected server error; nothing was applied — retrying with the same event_key is safe")


def _flatten(messages, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error messages as (field path, message) pairs."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten(value, name))
        return out
    if isinstance(messages, list):
        return [pair for item in messages for pair in _flatten(item, prefix)]
    return [(prefix, str(messages))]


def load(schema: Schema, data) -> dict:
    """Validate ``data`` (parsed JSON) with ``schema``.

    Raises ``ValidationError`` (400): code ``missing_field`` when a required
    field is absent, else ``invalid_request``; the message names every bad field.
    """
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", code="invalid_request")
    try:
        return schema.load(data)
    except SchemaError as exc:
        pairs = _flatten(exc.messages)
        code = "missing_field" if any(message == _REQUIRED_MESSAGE for _, message in pairs) else "invalid_request"
        text = "; ".join(f"{field}: {message}" if field else message for field, message in pairs)
        raise ValidationError(text, code=code) from exc


def json_body():
    """The request body parsed as JSON (any content type); raises ``ValidationError`` 400 ``malformed_json``.

    A body over ``MAX_CONTENT_LENGTH`` raises werkzeug's 413 before parsing.
    """
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:  # JSON nested deeper than the parser's recursion limit
        raise ValidationError("the request body nests too deeply", code="malformed_json") from None
    if data is None:
        raise ValidationError("the request body is not valid JSON", code="malformed_json")
    if b"\\u0000" in request.get_data():  # PostgreSQL text cannot hold NUL; no field needs one
        raise ValidationError("text fields must not contain NUL characters (\\u0000)", code="invalid_request")
    return data


def _check_external_id(external_id: str) -> None:
    if "\x00" in external_id:
        raise ValidationError("external id must not contain NUL characters")
    if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        raise ValidationError(f"external id is longer than {MAX_EXTERNAL_ID_LENGTH} characters")


def _award_json(result: AwardResult):
    response = jsonify(result.to_dict())
    response.status_code = 200 if result.duplicate else 201
    return response


@bp.post("/events")
def post_event():
    """Award points for one event (§4.1, §4.3).

    ---
    post:
      operationId: postEvent
      summary: Award points for one event
      description: >
        Goes through award(): the rule registry, caps (an award over a cap is
        recorded with 0 points and capped=true) and idempotency. A reused
        event_key with the same learner, activity type and payload answers 200
        with the original result and duplicate=true; with anything different,
        422 event_key_conflict. Concurrent requests with one key award once.
      tags: [events]
      requestBody:
        required: true
        content:
          application/json:
            schema: EventRequest
      responses:
        201:
          description: Awarded (possibly capped with 0 points).
          content:
            application/json:
              schema: AwardResult
        200:
          description: Duplicate event key with the same payload; the original result, duplicate=true.
          content:
            application/json:
              schema: AwardResult
        400: BadRequest
        401: Unauthorized
        404: NotFound
        413: PayloadTooLarge
        422: Unprocessable
        429: RateLimited
    """
    event = parse_event(json_body())
    check_api_event(event.activity_type, event.occurred_at)   # open to the API, not back-dated too far
    # One write transaction: the learner is resolved by external id inside the award's locking statement.
    result = award(None, event.activity_type, event_key=event.event_key, occurred_at=event.occurred_at,
                   metadata=event.metadata, description=event.description, points=event.points,
                   external_id=event.user)
    return _award_json(result)


def _error_item(index: int, exc: ThriveError) -> dict:
    return {"index": index, "status": exc.status, "error": {"code": exc.code, "message": exc.message}}


def _api_event(item):
    """One batch item parsed and checked against the API's policy, or the ThriveError answering it."""
    try:
        event = parse_event(item)
        check_api_event(event.activity_type, event.occurred_at)
        return event
    except ThriveError as exc:
        return exc


@bp.post("/events/batch")
def post_events_batch():
    """Award a batch of events, one answer per event (§13).

    ---
    post:
      operationId: postEventsBatch
      summary: Award up to 1,000 events in one request
      description: >
        Each event is validated and awarded on its own, in order, through the
        same award() as POST /events, in short transactions (on SQLite each
        lasts under a second so that other writers are not held up): an invalid
        event, an unknown user or a reused key is that item's error and writes
        nothing, the others are awarded. The answer is 200 with one result per event
        (status 201 awarded, 200 duplicate, 4xx error) and a summary. More
        than THRIVE_API_BATCH_MAX events (default 1,000) is a 413
        batch_too_large and nothing is awarded.
      tags: [events]
      requestBody:
        required: true
        content:
          application/json:
            schema: BatchRequest
      responses:
        200:
          description: One answer per event, in request order.
          content:
            application/json:
              schema: BatchResponse
        400: BadRequest
        401: Unauthorized
        413: PayloadTooLarge
        429: RateLimited
    """
    events = load(_batch_schema, json_body())["events"]
    limit = current_app.config["THRIVE_API_BATCH_MAX"]
    if len(events) > limit:
        raise ThriveError(f"a batch holds at most {limit} events, got {len(events)}; split it",
                          code="batch_too_large", status=413)

    answers = []
    slicer = WriteSlicer(len(events) or 1)
    outcomes = slicer.run([_api_event(item) for item in events], award_events)
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, AwardResult):
            answers.append({"index": index, "status": 200 if outcome.duplicate else 201,
                            "result": outcome.to_dict()})
        elif isinstance(outcome, ThriveError):
            answers.append(_error_item(index, outcome))
        else:  # award_events only returns results or ThriveErrors; anything else is a bug
            raise outcome
    summary = {
        "awarded": sum(1 for a in answers if a["status"] == 201),
        "duplicates": sum(1 for a in answers if a["status"] == 200),
        "errors": sum(1 for a in answers if a["status"] >= 400),
    }
    return jsonify(_batch_response_schema.dump({"results": answers, "summary": summary}))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of this API (public, no API key).

    ---
    get:
      operationId: getOpenApiDocument
      summary: This document
      tags: [meta]
      security: []
      responses:
        200:
          description: The OpenAPI 3 document.
          content:
            application/json:
              schema:
                type: object
        429: RateLimited
    """
    from .openapi import spec_dict

    return jsonify(spec_dict(current_app))
