"""Data subject requests through the API (issue 10): export and erase a learner by external id (§13)."""
from __future__ import annotations

from thrive.services.accounts import data_requests, learners
from thrive.web.data_export import build_export

from . import bp
from .views import _check_external_id


@bp.get("/users/<external_id>/export")
def export_user(external_id: str):
    """Export a learner's data as a ZIP (issue 10).

    ---
    get:
      operationId: exportUser
      summary: Export a learner's data (data subject access request)
      description: >
        A ZIP of JSON and CSV files with an index.html: profile, settings,
        ledger, progression events, streaks, goals, circle memberships,
        side quests (progress and completions), achievements (earned, with
        featured or private, and progress towards the others), follows,
        cheers given and received, notifications. Other learners
        appear only as "A learner" unless they share their profile.
      tags: [users]
      parameters:
        - ExternalId
      responses:
        200:
          description: The ZIP archive.
          content:
            application/zip:
              schema:
                type: string
                format: binary
        400: BadRequest
        401: Unauthorized
        404: NotFound
        429: RateLimited
    """
    _check_external_id(external_id)
    export = build_export(learners.get_by_external_id(external_id).id)
    return export.download()


@bp.delete("/users/<external_id>")
def delete_user(external_id: str):
    """Erase a learner (issue 10).

    ---
    delete:
      operationId: deleteUser
      summary: Erase a learner (right to erasure)
      description: >
        Erases the learner's personal data (username, display name, email,
        topics, time zone, external id, password, notifications, follows,
        cheers, side quests in progress) and keeps their ledger only as
        anonymous amounts (with the completed quests and badges they paid
        for, made private), so community
        totals stay true. The learner disappears from every page; the external
        id is free to be registered again as a new learner. Answers 204. A
        repeated DELETE answers 404 (the external id no longer exists).
      tags: [users]
      parameters:
        - ExternalId
      responses:
        204:
          description: Erased.
        400: BadRequest
        401: Unauthorized
        404: NotFound
        429: RateLimited
    """
    _check_external_id(external_id)
    data_requests.erase_learner(learners.get_by_external_id(external_id).id)
    return "", 204
