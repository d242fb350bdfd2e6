"""Admin → side quests and achievements (§10, §11): define, edit, publish/retire, backfill, revoke (audited)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.web.admin.conftest import admin_token
from thrive.extensions import db
from thrive.models import Achievement, AuditEntry, LearnerAchievement, Notification, Quest
from thrive.services.points.award import award


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_define_edit_publish_and_retire_a_quest(app, as_admin, make_learner):
    client = as_admin
    fan = make_learner("fan")
    with app.app_context():
        award(fan.id, "comment_posted", event_key="fan:1", occurred_at=datetime.now(UTC) - timedelta(hours=1))
        db.session.remove()
    assert "Side quests" in text(client.get("/admin/quests"))
    token = admin_token(client, "/admin/quests/new")
    bad = client.post("/admin/quests/new", data={"csrf_token": token, "key": "Bad Key", "title": "",
                                                 "activity_type": "quiz_completed", "target": "0",
                                                 "min_tier": "ember", "difficulty": "beginner", "repeat": "once",
                                                 "prerequisite_id": "0"})
    assert bad.status_code == 400 and "A title is required." in text(bad)
    form = {"csrf_token": token, "key": "python-week", "title": "Python week", "description": "Three Python quizzes.",
            "activity_type": "quiz_completed", "target": "3", "topic_filter": "Python", "min_tier": "ember",
            "difficulty": "intermediate", "reward": "", "repeat": "weekly", "prerequisite_id": "0",
            "available_from": "", "available_until": "", "position": "1"}
    created = client.post("/admin/quests/new", data=form)
    assert created.status_code == 303
    with app.app_context():
        quest = db.session.scalar(select(Quest).where(Quest.key == "python-week"))
        assert (quest.status, quest.reward, quest.repeat, quest.topic_filter) == ("draft", 100, "weekly", "Python")
        quest_id = quest.id
    edit = client.post(f"/admin/quests/{quest_id}", data={**form, "title": "Python sprint",
                                                           "available_until": "2099-01-31"})
    assert edit.status_code == 303
    assert client.post(f"/admin/quests/{quest_id}/publish", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        quest = db.session.get(Quest, quest_id)
        assert quest.title == "Python sprint" and quest.status == "published"
        assert quest.available_until.replace(tzinfo=UTC) == datetime(2099, 2, 1, tzinfo=UTC)
        assert db.session.scalar(select(Notification.learner_id).where(
            Notification.type == "side_quest_available")) == fan.id
    assert client.post(f"/admin/quests/{quest_id}/retire", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/admin/quests/{quest_id}/explode", data={"csrf_token": token}).status_code == 404
    assert audit_actions(app) == ["quest.create", "quest.update", "quest.published", "quest.retired"]


def test_define_backfill_and_revoke_an_achievement(app, as_admin, make_learner):
    client = as_admin
    ada = make_learner("ada")
    when = datetime.now(UTC) - timedelta(days=2)
    with app.app_context():
        award(ada.id, "quiz_completed", event_key="ada:1", occurred_at=when)
        db.session.remove()
    token = admin_token(client, "/admin/achievements/new")
    form = {"csrf_token": token, "key": "first-quiz", "name": "First Quiz", "criteria_text": "Complete a quiz.",
            "kind": "counter", "target": "1", "counter": "quizzes_completed", "activity_type": "quiz_completed",
            "tier": "spark", "icon": "🧠", "colour": "#2f9e44", "group": "Learning", "reward": "30", "position": "1"}
    assert client.post("/admin/achievements/new", data={**form, "reward": "500"}).status_code == 400
    assert client.post("/admin/achievements/new", data=form).status_code == 303
    with app.app_context():
        ach_id = db.session.scalar(select(Achievement.id).where(Achievement.key == "first-quiz"))
    page = text(client.get("/admin/achievements"))
    assert "First Quiz" in page and "Backfill" in page
    assert client.post("/admin/achievements/backfill", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        row = db.session.scalar(select(LearnerAchievement))
        assert row.learner_id == ada.id and row.granted_at.replace(tzinfo=UTC) == when
    no_reason = client.post(f"/admin/achievements/{ach_id}/revoke",
                            data={"csrf_token": token, "username": "ada", "reason": ""})
    assert no_reason.status_code == 400 and "A reason is required." in text(no_reason)
    nobody = client.post(f"/admin/achievements/{ach_id}/revoke",
                         data={"csrf_token": token, "username": "nobody", "reason": "test"})
    assert nobody.status_code == 400
    done = client.post(f"/admin/achievements/{ach_id}/revoke",
                       data={"csrf_token": token, "username": "ada", "reason": "granted by mistake"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(LearnerAchievement.revoked_reason)) == "granted by mistake"
    assert client.post(f"/admin/achievements/{ach_id}/retire", data={"csrf_token": token}).status_code == 303
    assert audit_actions(app) == ["achievement.create", "achievement.backfill", "achievement.revoke",
                                  "achievement.retire"]


def test_learners_cannot_reach_the_sections(app, client, auth, make_learner):
    make_learner("ada")
    auth.login("ada")
    for path in ("/admin/quests", "/admin/achievements", "/admin/quests/new", "/admin/achievements/new"):
        assert client.get(path).status_code == 403
