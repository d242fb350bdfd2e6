"""``POST /api/v1/events/batch`` (§13): one answer per event, item errors do not sink the batch."""
from __future__ import annotations

import pytest

from .conftest import assert_error


def _event(user="lms-1", activity_type="comment_posted", key="k", **fields) -> dict:
    return {"user": user, "activity_type": activity_type, "event_key": key, **fields}


def test_mixed_batch_answers_each_event_in_order(api, app, ledger_count):
    api.create_user("lms-1")
    api.create_user("lms-2")
    assert api.event("lms-1", "comment_posted", "before").status_code == 201
    events = [
        _event(key="b0"),                                               # 0 awarded
        _event(key="before"),                                           # 1 duplicate of an earlier request
        _event(user="ghost", key="b2"),                                 # 2 unknown user
        _event(activity_type="telepathy", key="b3"),                    # 3 unknown activity type
        {"user": "lms-1", "activity_type": "comment_posted"},          # 4 missing event_key
        _event(key="before", description="changed"),                   # 5 key reused with another payload
        _event(activity_type="weekly_challenge_completed", key="b6", points=9999),  # 6 out of range
        _event(user="lms-2", activity_type="quiz_completed", key="b7"),  # 7 awarded (other learner)
        _event(key="b0"),                                               # 8 duplicate within the batch
        "not an object",                                                # 9 not an object
        _event(key="b10", points="5"),                                  # 10 bad type
    ]
    response = api.post("/api/v1/events/batch", json={"events": events})
    assert response.status_code == 200
    body = response.get_json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(events)))
    statuses = [r["status"] for r in results]
    assert statuses == [201, 200, 404, 400, 400, 422, 422, 201, 200, 400, 400]
    codes = [r.get("error", {}).get("code") for r in results]
    assert codes == [None, None, "unknown_user", "unknown_activity_type", "missing_field", "event_key_conflict",
                     "points_out_of_range", None, None, "invalid_request", "invalid_request"]
    for r in results:
        assert ("result" in r) != ("error" in r)
        if "error" in r:
            assert set(r["error"]) == {"code", "message"} and r["error"]["message"]
    assert results[0]["result"]["points_awarded"] == 5 and results[0]["result"]["total_points"] == 10
    assert results[1]["result"]["duplicate"] is True
    assert results[7]["result"]["points_awarded"] == 20
    assert results[8]["result"]["duplicate"] is True
    assert results[8]["result"]["event_id"] == results[0]["result"]["event_id"]
    assert body["summary"] == {"awarded": 2, "duplicates": 2, "errors": 7}
    assert ledger_count() == 3  # "before", b0, b7


def test_batch_results_match_single_awards(api):
    api.create_user("lms-1")
    events = [_event(activity_type="quiz_completed", key=f"q{i}") for i in range(12)]
    results = api.post("/api/v1/events/batch", json={"events": events}).get_json()["results"]
    assert [r["result"]["capped"] for r in results] == [False] * 10 + [True] * 2
    assert results[-1]["result"]["total_points"] == 200
    assert api.get("/api/v1/users/lms-1").get_json()["total_points"] == 200


def test_full_batch_of_1000_is_accepted(api, ledger_count):
    api.create_user("lms-1")
    events = [_event(activity_type="reaction_given", key=f"r{i}",
                     occurred_at=f"2025-{1 + i // 200:02d}-{1 + (i // 20) % 10:02d}T12:00:00Z")
              for i in range(1000)]
    body = api.post("/api/v1/events/batch", json={"events": events}).get_json()
    assert body["summary"] == {"awarded": 1000, "duplicates": 0, "errors": 0}
    assert ledger_count() == 1000
    assert api.get("/api/v1/users/lms-1").get_json()["total_points"] == 2000


def test_over_the_batch_limit_is_413_and_awards_nothing(api, ledger_count):
    api.create_user("lms-1")
    events = [_event(key=f"k{i}") for i in range(1001)]
    error = assert_error(api.post("/api/v1/events/batch", json={"events": events}), 413, "batch_too_large")
    assert "1000" in error["message"]
    assert ledger_count() == 0


class TestConfiguredLimit:
    @pytest.fixture
    def app_config(self, app_config, database_url):
        return {**app_config, "THRIVE_API_BATCH_MAX": 3}

    def test_limit_comes_from_config(self, api, ledger_count):
        api.create_user("lms-1")
        assert api.post("/api/v1/events/batch", json={"events": [_event(key=f"k{i}") for i in range(3)]}
                        ).status_code == 200
        assert_error(api.post("/api/v1/events/batch", json={"events": [_event(key=f"x{i}") for i in range(4)]}),
                     413, "batch_too_large")
        assert ledger_count() == 3


@pytest.mark.parametrize("body, code", [
    ({}, "missing_field"),
    ({"events": "all of them"}, "invalid_request"),
    ({"events": {"0": {}}}, "invalid_request"),
    ({"events": [], "dry_run": True}, "invalid_request"),
    ([], "invalid_request"),
])
def test_bad_envelope_is_400(api, body, code):
    assert_error(api.post("/api/v1/events/batch", json=body), 400, code)


def test_malformed_json_is_400(api):
    assert_error(api.post("/api/v1/events/batch", data=b'{"events": [', headers={"Content-Type": "application/json"}),
                 400, "malformed_json")


def test_empty_batch_is_fine(api):
    body = api.post("/api/v1/events/batch", json={"events": []}).get_json()
    assert body == {"results": [], "summary": {"awarded": 0, "duplicates": 0, "errors": 0}}
