"""``GET /api/v1/users/<external_id>``: achievements (keys with dates) and active quests (progress, target), §13."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thrive.extensions import db
from thrive.services.achievements import catalog as achievements
from thrive.services.quests import catalog as quests
from thrive.services.quests.progress import start_quest


def test_status_lists_achievements_and_active_quests(app, client, api_headers, make_learner):
    learner = make_learner("ext", external_id="ext-1")
    with app.app_context():
        achievements.create_achievement({"key": "first-quiz", "name": "First Quiz", "criteria_text": "One quiz.",
                                         "criteria": {"kind": "counter", "counter": "quizzes_completed",
                                                      "target": 1}})
        q = quests.create_quest({"key": "three-quizzes", "title": "Three quizzes", "activity_type": "quiz_completed",
                                 "target": 3, "topic_filter": "Python"}, now=datetime.now(UTC) - timedelta(days=1))
        quests.set_status(q.id, "published")
        start_quest(learner.id, q.id, now=datetime.now(UTC) - timedelta(hours=1))
        db.session.remove()
    empty = client.get("/api/v1/users/ext-1", headers=api_headers).get_json()
    assert empty["achievements"] == [] and empty["quests"][0]["progress"] == 0
    response = client.post("/api/v1/events", headers=api_headers, json={
        "user": "ext-1", "activity_type": "quiz_completed", "event_key": "api:1", "metadata": {"topic": "Python"}})
    assert response.status_code == 201
    body = client.get("/api/v1/users/ext-1", headers=api_headers).get_json()
    [earned] = body["achievements"]
    assert earned["key"] == "first-quiz" and earned["granted_at"].endswith("+00:00")
    assert earned["visibility"] == "shown"
    [quest] = body["quests"]
    assert (quest["key"], quest["progress"], quest["target"], quest["topic"]) == ("three-quizzes", 1, 3, "Python")
    assert quest["reward"] == 50 and quest["ends_at"] is None


def test_openapi_describes_the_new_fields(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    status = doc["components"]["schemas"]["UserStatus"]["properties"]
    assert "achievements" in status and "quests" in status
    assert {"key", "granted_at"} <= set(doc["components"]["schemas"]["EarnedAchievement"]["properties"])
    assert {"progress", "target"} <= set(doc["components"]["schemas"]["ActiveQuest"]["properties"])
