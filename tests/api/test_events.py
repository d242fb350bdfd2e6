"""``POST /api/v1/events`` (§4.1, §4.3, §13): results, duplicates, every error status, nothing half-written."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from thrive.extensions import db
from thrive.models import LearnerState, LedgerEntry, PointRule
from thrive.services.points.award import AwardResult
from thrive.services.points.registry import invalidate

from .conftest import assert_error

AWARD_FIELDS = {f for f in AwardResult.__dataclass_fields__}


def test_award_answers_201_with_the_award_result(api):
    api.create_user("lms-1")
    response = api.event("lms-1", "quiz_completed", "quiz:1", metadata={"difficulty": "advanced", "score": 100})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == AWARD_FIELDS
    for name in ("points_awarded", "capped", "duplicate", "total_points", "tier", "level", "tier_upgraded",
                 "level_upgraded", "event_id"):
        assert name in body
    # advanced 50 + 25% perfect score = 63 (half up), crossing levels 2 (50) and nothing more
    assert body["points_awarded"] == 63
    assert body["total_points"] == 63
    assert body["capped"] is False and body["duplicate"] is False
    assert body["tier"] == "ember" and body["level"] == 2
    assert body["level_upgraded"] is True and body["levels_gained"] == [2]
    assert body["tier_upgraded"] is False
    assert isinstance(body["event_id"], int)
    assert body["event_key"] == "quiz:1"


def test_duplicate_answers_200_with_the_original_result(api, ledger_count):
    api.create_user("lms-1")
    payload = {"metadata": {"score": 80}, "occurred_at": "2026-01-05T10:00:00Z", "description": "Quiz 3"}
    first = api.event("lms-1", "quiz_completed", "quiz:dup", **payload)
    assert first.status_code == 201
    again = api.event("lms-1", "quiz_completed", "quiz:dup", **payload)
    assert again.status_code == 200
    original, duplicate = first.get_json(), again.get_json()
    assert duplicate["duplicate"] is True
    assert {k: v for k, v in duplicate.items() if k != "duplicate"} == {
        k: v for k, v in original.items() if k != "duplicate"}
    assert ledger_count() == 1


def test_tier_upgrade_and_multi_level_jump_are_reported(api, app):
    api.create_user("lms-1")
    with app.app_context():  # allow a large custom amount for this test
        db.session.execute(update(PointRule).where(PointRule.activity_type == "special_event")
                           .values(min_points=100, max_points=1000))
        db.session.commit()
        invalidate()
    body = api.event("lms-1", "special_event", "special:1", points=600).get_json()
    assert body["points_awarded"] == 600
    assert body["tier"] == "blaze" and body["tiers_gained"] == ["spark", "blaze"]
    assert body["tier_upgraded"] is True
    assert body["levels_gained"] == [2, 3, 4, 5, 6]  # 50, 100, 200, 300, 500
    assert body["level"] == 6


def test_award_over_the_daily_cap_is_recorded_capped(api, ledger_count):
    api.create_user("lms-1")
    for i in range(10):
        assert api.event("lms-1", "quiz_completed", f"q{i}").get_json()["capped"] is False
    response = api.event("lms-1", "quiz_completed", "q10")
    assert response.status_code == 201
    body = response.get_json()
    assert body["capped"] is True and body["points_awarded"] == 0 and body["total_points"] == 200
    assert ledger_count() == 11


def test_same_key_with_another_payload_is_422_and_writes_nothing(api, app, ledger_count):
    api.create_user("lms-1")
    api.create_user("lms-2")
    assert api.event("lms-1", "quiz_completed", "shared", metadata={"score": 50}).status_code == 201
    with app.app_context():
        before = db.session.get(LearnerState, 1).total_points
        db.session.remove()
    for changed in (
        {"user": "lms-1", "activity_type": "quiz_completed", "metadata": {"score": 100}},  # payload
        {"user": "lms-1", "activity_type": "comment_posted", "metadata": {"score": 50}},  # activity type
        {"user": "lms-2", "activity_type": "quiz_completed", "metadata": {"score": 50}},  # learner
        {"user": "lms-1", "activity_type": "quiz_completed", "metadata": {"score": 50}, "description": "x"},
    ):
        response = api.post("/api/v1/events", json={"event_key": "shared", **changed})
        assert_error(response, 422, "event_key_conflict")
    assert ledger_count() == 1
    with app.app_context():
        assert db.session.get(LearnerState, 1).total_points == before
        assert db.session.scalar(select(func.sum(LearnerState.total_points))) == before


def test_unknown_user_is_404(api, ledger_count):
    assert_error(api.event("nobody", "quiz_completed", "k"), 404, "unknown_user")
    assert ledger_count() == 0


def test_unknown_activity_type_is_400(api, ledger_count):
    api.create_user("lms-1")
    assert_error(api.event("lms-1", "telepathy", "k"), 400, "unknown_activity_type")
    assert ledger_count() == 0


def test_disabled_activity_is_422(api, app, ledger_count):
    api.create_user("lms-1")
    with app.app_context():
        db.session.execute(update(PointRule).where(PointRule.activity_type == "battle_won").values(enabled=False))
        db.session.commit()
        invalidate()
    assert_error(api.event("lms-1", "battle_won", "k"), 422, "activity_disabled")
    assert ledger_count() == 0


@pytest.mark.parametrize("activity_type, points", [
    ("weekly_challenge_completed", 49),    # custom 50–500
    ("weekly_challenge_completed", 501),
    ("weekly_challenge_completed", -5),
    ("quiz_completed", 30),                # no custom amount allowed
])
def test_points_out_of_range_is_422(api, ledger_count, activity_type, points):
    api.create_user("lms-1")
    assert_error(api.event("lms-1", activity_type, "k", points=points), 422, "points_out_of_range")
    assert ledger_count() == 0


def test_custom_points_within_range(api):
    api.create_user("lms-1")
    response = api.event("lms-1", "weekly_challenge_completed", "k", points=120)
    assert response.status_code == 201 and response.get_json()["points_awarded"] == 120


@pytest.mark.parametrize("missing", ["user", "activity_type", "event_key"])
def test_missing_field_is_400(api, ledger_count, missing):
    api.create_user("lms-1")
    payload = {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "k"}
    del payload[missing]
    error = assert_error(api.post("/api/v1/events", json=payload), 400, "missing_field")
    assert missing in error["message"]
    assert ledger_count() == 0


@pytest.mark.parametrize("field, value", [
    ("points", "10"),
    ("points", 2.5),
    ("metadata", ["a"]),
    ("occurred_at", "yesterday"),
    ("description", 7),
    ("event_key", ""),
    ("event_key", "k" * 256),
    ("user", 42),
    ("color", "blue"),  # unknown field
])
def test_bad_types_are_400(api, ledger_count, field, value):
    api.create_user("lms-1")
    payload = {"user": "lms-1", "activity_type": "quiz_completed", "event_key": "k", field: value}
    error = assert_error(api.post("/api/v1/events", json=payload), 400, "invalid_request")
    assert field in error["message"]
    assert ledger_count() == 0


def test_occurred_at_in_the_future_is_400(api, ledger_count):
    api.create_user("lms-1")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert_error(api.event("lms-1", "quiz_completed", "k", occurred_at=future), 400, "invalid_occurred_at")
    assert ledger_count() == 0


def test_occurred_at_decides_the_learners_local_day(api, app):
    api.create_user("lms-1", timezone="Pacific/Auckland")
    body = api.event("lms-1", "quiz_completed", "k", occurred_at="2026-01-05T13:30:00Z").get_json()
    assert body["occurred_at"] == "2026-01-05T13:30:00+00:00"
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry))
        assert entry.local_date.isoformat() == "2026-01-06"  # 02:30 next day in Auckland (UTC+13)


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2", "{\"user\": \"\u00e9\"".encode()])
def test_malformed_json_is_400(api, ledger_count, body):
    response = api.post("/api/v1/events", data=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "malformed_json")
    assert ledger_count() == 0


@pytest.mark.parametrize("body", [[], "text", 5, [{"user": "x"}]])
def test_json_that_is_not_an_object_is_400(api, body):
    assert_error(api.post("/api/v1/events", json=body), 400, "invalid_request")


def test_body_over_the_size_limit_is_413_json(api, app, ledger_count):
    api.create_user("lms-1")
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = b'{"user": "lms-1", "activity_type": "quiz_completed", "event_key": "k", "description": "' + (
        b"x" * limit) + b'"}'
    response = api.post("/api/v1/events", data=payload, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert ledger_count() == 0


def test_unknown_api_path_and_wrong_method_answer_json(api):
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(api.get("/api/v1/events"), 405, "method_not_allowed")


def test_unexpected_failure_is_500_json_and_writes_nothing(api, app, ledger_count):
    """A crash inside award() rolls its transaction back and answers the §13 error shape."""
    from thrive.services.points import award as points

    api.create_user("lms-1")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def exploding_hook(ctx):
        raise RuntimeError("disk on fire")

    points.register_award_hook(exploding_hook)
    try:
        response = api.event("lms-1", "comment_posted", "k")
    finally:
        points._award_hooks.remove(exploding_hook)
    assert_error(response, 500, "internal_error")
    assert ledger_count() == 0
    assert api.event("lms-1", "comment_posted", "k").status_code == 201  # the retry goes through
