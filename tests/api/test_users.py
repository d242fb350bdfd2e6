"""``PUT/GET /api/v1/users/<external_id>`` and the paged ledger ``…/events`` (§5, §13)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import GoalTemplate, Learner, WeeklyGoal
from thrive.timeutil import platform_week, shift_week, utcnow

from .conftest import assert_error

STATUS_FIELDS = {"total_points", "weekly_points", "tier", "level", "current_streak", "longest_streak"}


def _learner_count(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count(Learner.id)))
        db.session.remove()
        return n


def test_put_creates_201_then_updates_200(api, app):
    response = api.put("/api/v1/users/lms-7", json={
        "username": "ada", "display_name": "Ada Lovelace", "email": "ada@example.org",
        "timezone": "Europe/London", "topics": ["python", "Data", "python"],
    })
    assert response.status_code == 201
    assert response.get_json() == {
        "external_id": "lms-7", "username": "ada", "display_name": "Ada Lovelace", "email": "ada@example.org",
        "timezone": "Europe/London", "topics": ["Data", "python"], "created_at": response.get_json()["created_at"],
    }
    assert datetime.fromisoformat(response.get_json()["created_at"]).utcoffset() == timedelta(0)

    response = api.put("/api/v1/users/lms-7", json={"display_name": "Countess Ada", "topics": ["maths"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["display_name"] == "Countess Ada" and body["topics"] == ["maths"]
    assert body["username"] == "ada" and body["timezone"] == "Europe/London"  # untouched fields stay
    assert _learner_count(app) == 1


def test_put_defaults_display_name_and_timezone(api, app):
    body = api.put("/api/v1/users/lms-8", json={"username": "grace"}).get_json()
    assert body["display_name"] == "grace"
    assert body["timezone"] == app.config["THRIVE_TIMEZONE"]


@pytest.mark.parametrize("payload, code", [
    ({}, "missing_field"),                                        # creating needs a username
    ({"display_name": "No Username"}, "missing_field"),
    ({"username": "a b"}, "invalid_username"),
    ({"username": "ab"}, "invalid_request"),                       # schema: 3–64 characters
    ({"username": "ada", "timezone": "Mars/Olympus"}, "invalid_timezone"),
    ({"username": "ada", "email": "not-an-email"}, "invalid_email"),
    ({"username": "ada", "topics": "python"}, "invalid_request"),
    ({"username": "ada", "topics": ["<script>"]}, "invalid_request"),
    ({"username": "ada", "is_admin": True}, "invalid_request"),   # unknown fields are refused
])
def test_put_bad_fields_are_400_and_create_nothing(api, app, payload, code):
    assert_error(api.put("/api/v1/users/lms-9", json=payload), 400, code)
    assert _learner_count(app) == 0


def test_put_bad_update_changes_nothing(api, app):
    api.create_user("lms-1", username="ada", display_name="Ada")
    assert_error(api.put("/api/v1/users/lms-1", json={"display_name": "Ada B", "timezone": "Nowhere/Land"}),
                 400, "invalid_timezone")
    assert api.get("/api/v1/users/lms-1").get_json()["display_name"] == "Ada"


def test_put_taken_username_is_409(api, app):
    api.create_user("lms-1", username="ada")
    assert_error(api.put("/api/v1/users/lms-2", json={"username": "ADA"}), 409, "username_taken")
    api.create_user("lms-3", username="grace")
    assert_error(api.put("/api/v1/users/lms-3", json={"username": "ada"}), 409, "username_taken")
    assert _learner_count(app) == 2


def test_put_external_id_too_long_is_400(api):
    assert_error(api.put("/api/v1/users/" + "x" * 129, json={"username": "ada"}), 400, "invalid_request")


def test_put_malformed_json_is_400(api):
    assert_error(api.put("/api/v1/users/lms-1", data=b"{", headers={"Content-Type": "application/json"}),
                 400, "malformed_json")


def test_status_of_a_new_learner(api):
    api.create_user("lms-1")
    response = api.get("/api/v1/users/lms-1")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= STATUS_FIELDS
    assert body["total_points"] == 0 and body["weekly_points"] == 0
    assert body["tier"] == "ember" and body["level"] == 1
    assert body["current_streak"] == 0 and body["longest_streak"] == 0 and body["grace_days"] == 0
    assert body["tier_progress"]["next_tier"]["key"] == "spark"
    assert body["tier_progress"]["points_to_next"] == 250 and body["tier_progress"]["percent"] == 0
    assert body["level_progress"] == {"level": 1, "next_level_at": 50, "points_to_next": 50, "percent": 0}
    assert body["lifetime"] == {"quizzes_completed": 0, "projects_created": 0, "comments_posted": 0,
                                "side_quests_completed": 0}
    assert body["weekly_goals"] == [] and body["last_active_date"] is None
    assert body["week"] == platform_week(utcnow())


def test_status_after_awards(api):
    api.create_user("lms-1")
    now = datetime.now(UTC)
    last_week = now - timedelta(days=7)
    api.event("lms-1", "project_created", "p1", occurred_at=last_week.isoformat())
    api.event("lms-1", "quiz_completed", "q1", metadata={"difficulty": "advanced"})
    api.event("lms-1", "comment_posted", "c1")
    body = api.get("/api/v1/users/lms-1").get_json()
    assert body["total_points"] == 20 + 50 + 5
    assert body["weekly_points"] == 55  # last week's project does not count this week
    assert body["level"] == 2
    assert body["current_streak"] == 1 and body["longest_streak"] == 1
    assert body["lifetime"]["quizzes_completed"] == 1
    assert body["lifetime"]["projects_created"] == 1
    assert body["lifetime"]["comments_posted"] == 1
    assert body["tier_progress"]["points_to_next"] == 250 - 75
    assert body["tier_progress"]["percent"] == 30


def test_status_lists_this_weeks_goals_only(api, app):
    api.create_user("lms-1")
    week = platform_week(utcnow())
    with app.app_context():
        learner_id = db.session.scalar(select(Learner.id).where(Learner.external_id == "lms-1"))
        template = GoalTemplate(key="quizzes", title="Complete 3 quizzes", kind="activity_count",
                                activity_types=["quiz_completed"], target=3, reward=50)
        db.session.add(template)
        db.session.flush()
        for goal_week, progress, done in ((week, 3, utcnow()), (shift_week(week, -1), 1, None)):
            db.session.add(WeeklyGoal(learner_id=learner_id, week=goal_week, template_id=template.id,
                                      title=template.title, kind=template.kind, activity_types=["quiz_completed"],
                                      target=3, progress=progress, reward=50, completed_at=done))
        db.session.commit()
    goals = api.get("/api/v1/users/lms-1").get_json()["weekly_goals"]
    assert len(goals) == 1
    goal = goals[0]
    assert goal["title"] == "Complete 3 quizzes" and goal["kind"] == "activity_count"
    assert goal["target"] == 3 and goal["progress"] == 3 and goal["reward"] == 50
    assert goal["completed"] is True and goal["completed_at"].endswith("+00:00")


def test_status_reads_create_no_goals(api, app):
    api.create_user("lms-1")
    api.get("/api/v1/users/lms-1")
    with app.app_context():
        assert db.session.scalar(select(func.count(WeeklyGoal.id))) == 0


def test_unknown_user_is_404(api):
    assert_error(api.get("/api/v1/users/nobody"), 404, "unknown_user")
    assert_error(api.get("/api/v1/users/nobody/events"), 404, "unknown_user")


def test_status_shows_no_peer_figures(api):
    """Non-competition (§1): the status holds the learner's own figures only — no rank, no peers."""
    for i in range(3):
        api.create_user(f"lms-{i}")
        api.event(f"lms-{i}", "quiz_completed", f"q{i}")
    body = api.get("/api/v1/users/lms-1").get_json()
    text = str(body).lower()
    for word in ("rank", "position", "percentile", "leaderboard", "lms-0", "lms-2"):
        assert word not in text


# --- the ledger, paged ------------------------------------------------------------------------------------------


def _award_series(api, n: int, *, same_instant: bool = False) -> list[str]:
    base = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    keys = []
    for i in range(n):
        at = base if same_instant else base + timedelta(minutes=i)
        key = f"c{i}"
        response = api.event("lms-1", "event_attended", key, occurred_at=at.isoformat())
        assert response.status_code == 201
        keys.append(key)
    return keys


def _walk(api, limit: int) -> list[dict]:
    seen, url, pages = [], f"/api/v1/users/lms-1/events?limit={limit}", 0
    while url:
        body = api.get(url).get_json()
        assert len(body["events"]) <= limit
        seen.extend(body["events"])
        assert (body["next"] is None) == (body["next_cursor"] is None)
        url = body["next"]
        pages += 1
        assert pages < 100
    return seen


@pytest.mark.parametrize("same_instant", [False, True])
def test_ledger_pages_newest_first_without_gaps_or_repeats(api, same_instant):
    api.create_user("lms-1")
    keys = _award_series(api, 7, same_instant=same_instant)
    entries = _walk(api, 3)
    assert [e["event_key"] for e in entries] == list(reversed(keys))
    assert len({e["event_id"] for e in entries}) == 7


def test_ledger_entry_fields(api):
    api.create_user("lms-1", timezone="America/New_York")
    api.event("lms-1", "quiz_completed", "q1", occurred_at="2026-01-05T03:00:00Z",
              metadata={"topic": "DDD", "score": 100}, description="Quiz 1")
    for i in range(10):  # fill the day's cap; the 11th is recorded capped
        api.event("lms-1", "quiz_completed", f"fill{i}", occurred_at="2026-01-05T04:00:00Z")
    body = api.get("/api/v1/users/lms-1/events?limit=200").get_json()
    assert body["next"] is None and body["next_cursor"] is None
    oldest = body["events"][-1]
    assert oldest == {
        "event_id": oldest["event_id"], "activity_type": "quiz_completed", "category": "learning", "points": 25,
        "capped": False, "event_key": "q1", "description": "Quiz 1", "metadata": {"topic": "DDD", "score": 100},
        "occurred_at": "2026-01-05T03:00:00+00:00", "local_date": "2026-01-04", "week": "2026-W02",
    }
    capped = [e for e in body["events"] if e["capped"]]
    assert len(capped) == 1 and capped[0]["points"] == 0


def test_ledger_next_link_keeps_the_page_size(api):
    api.create_user("lms-1")
    _award_series(api, 3)
    body = api.get("/api/v1/users/lms-1/events?limit=2").get_json()
    assert body["next"].startswith("/api/v1/users/lms-1/events?")
    assert "limit=2" in body["next"] and f"cursor={body['next_cursor']}" in body["next"]
    second = api.get(f"/api/v1/users/lms-1/events?limit=2&cursor={body['next_cursor']}").get_json()
    assert len(second["events"]) == 1 and second["next"] is None


def test_ledger_default_page_size_is_50(api, app):
    api.create_user("lms-1")
    batch = [{"user": "lms-1", "activity_type": "reaction_given", "event_key": f"r{i}",
              "occurred_at": f"2026-01-{1 + i // 20:02d}T10:{i % 20:02d}:00Z"} for i in range(60)]
    assert api.post("/api/v1/events/batch", json={"events": batch}).status_code == 200
    body = api.get("/api/v1/users/lms-1/events").get_json()
    assert len(body["events"]) == 50 and body["next_cursor"]


@pytest.mark.parametrize("query, code", [
    ("limit=0", "invalid_request"),
    ("limit=201", "invalid_request"),
    ("limit=ten", "invalid_request"),
    ("cursor=%%%", "invalid_cursor"),
    ("cursor=bm9wZQ", "invalid_cursor"),  # base64 of "nope"
    ("sort=asc", "invalid_request"),
])
def test_ledger_bad_query_is_400(api, query, code):
    api.create_user("lms-1")
    assert_error(api.get(f"/api/v1/users/lms-1/events?{query}"), 400, code)


def test_ledger_of_another_learner_is_not_mixed_in(api):
    api.create_user("lms-1")
    api.create_user("lms-2")
    api.event("lms-1", "comment_posted", "a")
    api.event("lms-2", "comment_posted", "b")
    assert [e["event_key"] for e in api.get("/api/v1/users/lms-2/events").get_json()["events"]] == ["b"]
