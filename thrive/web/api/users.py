"""Learner endpoints of the integration API ``/api/v1/users/…`` (§13): upsert, status, ledger.

Each view parses its input (with :func:`~thrive.web.api.views.load` and the schemas of
``schemas.py``), calls one service, and answers JSON; the YAML after ``---`` in each
docstring is the operation of the OpenAPI document.
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from thrive.services.accounts import learners
from thrive.services.achievements.reading import earned_for_api
from thrive.services.errors import Conflict
from thrive.services.points import history
from thrive.services.progression import state as progression
from thrive.services.quests.board import active_quests
from thrive.services.weekly.goals import goals_in_week

from ...db import write_transaction
from ...timeutil import platform_week, utcnow
from . import bp
from .schemas import (
    EventsQuerySchema,
    LedgerPageSchema,
    UserSchema,
    UserStatusSchema,
    UserUpsertSchema,
)
from .views import _check_external_id, json_body, load

_user_upsert_schema = UserUpsertSchema()
_events_query_schema = EventsQuerySchema()
_user_schema = UserSchema()
_status_schema = UserStatusSchema()
_ledger_page_schema = LedgerPageSchema()


def _user_json(learner) -> dict:
    return _user_schema.dump({
        "external_id": learner.external_id, "username": learner.username, "display_name": learner.display_name,
        "email": learner.email, "timezone": learner.timezone, "topics": learner.topics,
        "created_at": learner.created_at,
    })


@bp.put("/users/<external_id>")
def put_user(external_id: str):
    """Create or update the learner with an external id (§13).

    ---
    put:
      operationId: putUser
      summary: Create or update a learner
      description: >
        Creates the learner (username required; display name defaults to it,
        time zone to the platform's) or updates the fields given. Answers the
        learner's profile. A username already used by another learner is a
        409 username_taken.
      tags: [users]
      parameters:
        - ExternalId
      requestBody:
        required: true
        content:
          application/json:
            schema: UserUpsert
      responses:
        201:
          description: Created.
          content:
            application/json:
              schema: User
        200:
          description: Updated.
          content:
            application/json:
              schema: User
        400: BadRequest
        401: Unauthorized
        409: Conflict
        413: PayloadTooLarge
        429: RateLimited
    """
    _check_external_id(external_id)
    fields = load(_user_upsert_schema, json_body())
    for attempt in (1, 2):
        try:
            with write_transaction():
                learner, created = learners.upsert_by_external_id(external_id, fields)
                body = _user_json(learner)
            break
        except (IntegrityError, Conflict) as exc:
            # A concurrent PUT may have created this learner between our lookup and our insert
            # (external_id_taken, or a unique violation on PostgreSQL): try once more, which
            # updates the now existing learner — or reports a real username conflict.
            if attempt == 2:
                if isinstance(exc, Conflict):
                    raise
                raise Conflict("the learner was changed concurrently; retry", code="conflict") from exc
    response = jsonify(body)
    response.status_code = 201 if created else 200
    return response


@bp.get("/users/<external_id>")
def get_user(external_id: str):
    """The learner's status: points, tier, level, streak, lifetime counters, weekly goals (§5, §13).

    ---
    get:
      operationId: getUser
      summary: A learner's status
      description: >
        Total and weekly points, tier (never decreasing) with progress to the
        next, level with progress, current and longest streak as of the
        learner's local today, banked grace days, lifetime counters, this
        week's goals, the achievements held (keys with dates) and the side
        quests in progress (progress and target). Only the learner's own
        figures: Thrive has no ranks.
      tags: [users]
      parameters:
        - ExternalId
      responses:
        200:
          description: The status.
          content:
            application/json:
              schema: UserStatus
        401: Unauthorized
        404: NotFound
        429: RateLimited
    """
    learner = learners.get_by_external_id(external_id)
    now = utcnow()
    week = platform_week(now)
    status = progression.status_for(learner.state, learner.timezone, now)
    goals = goals_in_week(learner.id, week)
    tier, next_tier = status.tier.tier, status.tier.next_tier
    body = _status_schema.dump({
        "user": learner.external_id, "username": learner.username, "display_name": learner.display_name,
        "total_points": status.total_points, "weekly_points": status.weekly_points, "week": week,
        "tier": tier.key,
        "tier_progress": {"tier": tier, "next_tier": next_tier, "points_to_next": status.tier.points_to_next,
                          "percent": status.tier.percent},
        "level": status.level.level, "level_progress": status.level,
        "current_streak": status.current_streak, "longest_streak": status.longest_streak,
        "grace_days": status.grace_days, "last_active_date": status.last_active_date,
        "lifetime": status,
        "weekly_goals": [{
            "id": goal.id, "title": goal.title, "kind": goal.kind, "target": goal.target,
            "progress": goal.progress, "reward": goal.reward, "completed": goal.completed_at is not None,
            "completed_at": goal.completed_at,
        } for goal in goals],
        "achievements": earned_for_api(learner.id),
        "quests": [{
            "key": c.quest.key, "title": c.quest.title, "activity_type": c.quest.activity_type,
            "topic": c.quest.topic_filter, "progress": c.progress, "target": c.target, "reward": c.quest.reward,
            "started_at": c.started_at, "ends_at": c.quest.available_until,
        } for c in active_quests(learner.id, now)],
    })
    return jsonify(body)


@bp.get("/users/<external_id>/events")
def list_events(external_id: str):
    """The learner's ledger, newest first, paged with a cursor (§4.4, §13).

    ---
    get:
      operationId: listUserEvents
      summary: A learner's ledger, paged
      description: >
        Every ledger entry of the learner (capped ones too, with 0 points),
        newest occurred_at first. Follow next (or pass next_cursor as cursor)
        until it is null.
      tags: [users, events]
      parameters:
        - ExternalId
        - in: query
          schema: EventsQuerySchema
      responses:
        200:
          description: One page.
          content:
            application/json:
              schema: LedgerPage
        400: BadRequest
        401: Unauthorized
        404: NotFound
        429: RateLimited
    """
    query = load(_events_query_schema, request.args.to_dict())
    learner_id = history.learner_id_for(external_id)
    page = history.ledger_page(learner_id, query["limit"], query["cursor"])
    next_url = (url_for("api.list_events", external_id=external_id, limit=query["limit"], cursor=page.next_cursor)
                if page.next_cursor else None)
    return jsonify(_ledger_page_schema.dump({"events": page.entries, "next_cursor": page.next_cursor,
                                             "next": next_url}))
