"""Learner pages of §10: /quests, /achievements, the home quests panel, profile badges, feed items, recommendations."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.community_support import ago, give, login
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import LearnerAchievement
from thrive.services.achievements import catalog as achievements
from thrive.services.achievements.grants import set_visibility
from thrive.services.quests import catalog as quests

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def make_quest(app, key="first-steps", **values):
    with app.app_context():
        q = quests.create_quest({"key": key, "title": key.replace("-", " ").title(), "activity_type": "quiz_completed",
                                 "target": 3, **values}, now=ago(days=30))
        quests.set_status(q.id, "published", now=ago(days=30))
        db.session.remove()
        return q


def make_badge(app, key="first-quiz", **values):
    with app.app_context():
        a = achievements.create_achievement({
            "key": key, "name": key.replace("-", " ").title(), "criteria_text": "Complete your first quiz.",
            "criteria": {"kind": "counter", "counter": "quizzes_completed", "target": 1}, **values})
        db.session.remove()
        return a


@pytest.fixture
def me(client, auth, make_learner):
    learner = make_learner("aisha", display_name="Aisha")
    login(client, auth, learner)
    client.get("/")
    return learner


def test_pages_need_sign_in(client):
    for path in ("/quests", "/achievements"):
        assert client.get(path).status_code == 302


def test_quest_board_start_and_progress(app, client, me):
    quest = make_quest(app)
    make_quest(app, "blaze-quest", min_tier="blaze", difficulty="advanced")
    page = client.get("/quests")
    body = text(page)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert "First Steps" in body and "Start quest" in body
    assert "Unlocks at" in body and "Blaze" in body
    fragment = text(client.get("/quests", headers=HX))
    assert 'id="quest-board"' in fragment and "<html" not in fragment
    token = csrf_token_from(body)
    assert client.post(f"/quests/{quest.id}/start").status_code == 400          # no CSRF token
    started = client.post(f"/quests/{quest.id}/start", data={"csrf_token": token}, headers=HX)
    assert "Quest started" in text(started) and "0 / 3 quizzes" in text(started)
    again = client.post(f"/quests/{quest.id}/start", data={"csrf_token": token})
    assert again.status_code == 302
    assert "already started" in text(client.get("/quests"))
    give(app, me.id, metadata={"topic": "Python"})
    give(app, me.id, metadata={"topic": "Python"})
    home = text(client.get("/"))
    assert 'id="quests-panel"' in home and "2 / 3 quizzes" in home
    assert "2 / 3 quizzes" in text(client.get("/quests/panel", headers=HX))
    assert client.post("/quests/999/start", data={"csrf_token": token}, headers=HX).status_code == 200


def test_achievements_page_progress_secret_and_visibility(app, client, me, make_learner):
    first = make_badge(app)
    make_badge(app, "ten-quizzes", criteria={"kind": "counter", "counter": "quizzes_completed", "target": 10},
               criteria_text="Complete 10 quizzes.")
    make_badge(app, "hidden-gem", name="Hidden Gem", secret=True, criteria_text="Find the gem.",
               criteria={"kind": "counter", "counter": "comments_posted", "target": 5})
    for other in (make_learner(), make_learner()):
        give(app, other.id, "comment_posted", at=ago(days=1))
    give(app, me.id)
    body = text(client.get("/achievements"))
    assert "First Quiz" in body and "Earned" in body and "Held by 33% of learners" in body
    assert "1 / 10" in body
    assert "???" in body and "Hidden Gem" not in body and "Find the gem" not in body
    token = csrf_token_from(body)
    response = client.post(f"/achievements/{first.id}/visibility", data={"csrf_token": token,
                                                                         "visibility": "private"}, headers=HX)
    assert "only you can see it" in text(response)
    with app.app_context():
        assert db.session.scalar(select(LearnerAchievement.visibility)) == "private"
    bad = client.post(f"/achievements/{first.id}/visibility", data={"csrf_token": token, "visibility": "loud"})
    assert bad.status_code == 302


def test_private_badges_never_appear_to_others(app, client, auth, me, make_learner):
    shown = make_badge(app)
    hidden = make_badge(app, "first-comment", name="First Comment", criteria_text="Comment once.",
                        criteria={"kind": "counter", "counter": "comments_posted", "target": 1})
    give(app, me.id, metadata={"topic": "Python"})
    give(app, me.id, "comment_posted")
    with app.app_context():
        set_visibility(me.id, hidden.id, "private")
        set_visibility(me.id, shown.id, "featured")
    viewer = make_learner("viewer")
    client.post("/logout", data={"csrf_token": csrf_token_from(text(client.get("/")))})
    login(client, auth, viewer)
    profile = text(client.get("/u/aisha"))
    assert "First Quiz" in profile and "Featured" in profile
    assert "First Comment" not in profile
    feed = text(client.get("/community"))
    assert "earned First Quiz" in feed and "First Comment" not in feed


def test_feed_item_respects_share_activities(app, client, auth, make_learner):
    make_badge(app)
    private = make_learner("quiet", display_name="Quiet", share_activities=False)
    give(app, private.id)
    viewer = make_learner("viewer2")
    login(client, auth, viewer)
    assert "earned First Quiz" not in text(client.get("/community"))


def test_recommendations_link_to_real_quests_only(app, client, me):
    home = text(client.get("/"))
    assert "side quest" not in home.lower().split('id="actions-panel"')[1].split("</article>")[0]
    quest = make_quest(app)
    home = text(client.get("/"))
    actions = home.split('id="actions-panel"')[1].split("</article>")[0]
    assert f'data-recommendation="quest:{quest.id}"' in actions and 'href="/quests"' in actions
