"""The weekly goals panel (§6.2, §7): fragment vs page, progress, rewards, completed state, privacy."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from thrive.extensions import db
from thrive.models import GoalTemplate, WeeklyGoal
from thrive.services.points.award import award
from thrive.timeutil import platform_week, utcnow


@pytest.fixture
def learner(client, auth, make_learner):
    person = make_learner("goalie", display_name="Gil Goalie")
    auth.login("goalie")
    return person


def fragment(client) -> str:
    response = client.get("/panels/goals", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def goal_item(html: str, title: str) -> str:
    m = re.search(r'<li class="goal[^"]*"[^>]*>(?:(?!</li>).)*' + re.escape(title) + r"(?:(?!</li>).)*</li>", html,
                  re.S)
    assert m, f"no goal {title!r} in panel"
    return m.group(0)


def test_fragment_vs_page(client, learner):
    page = client.get("/panels/goals")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "<h1>Weekly goals</h1>" in html
    assert 'id="goals-panel"' in html
    body = fragment(client)
    assert "<html" not in body and body.lstrip().startswith('<article id="goals-panel"')
    assert 'hx-trigger="every 30s"' in body and 'hx-get="/panels/goals"' in body
    assert "HX-Request" in page.headers["Vary"]
    for title in ("Complete 3 activities", "Maintain a 7-day streak", "Help 5 community members",
                  "Try 2 new quiz topics"):
        assert title in body
    assert "+30 points" in body and "+50 points" in body and "0 of 4 completed this week" in body


def test_home_page_includes_the_goals_panel_and_creates_goals_lazily(app, client, learner):
    html = client.get("/").get_data(as_text=True)
    assert 'id="goals-panel"' in html and "Weekly goals" in html
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(WeeklyGoal).where(
            WeeklyGoal.learner_id == learner.id, WeeklyGoal.week == platform_week(utcnow())))
    assert count == 4


def test_progress_and_completed_state(app, client, learner):
    client.get("/panels/goals")
    with app.app_context():
        award(learner.id, "quiz_completed", event_key="g:q1", metadata={"topic": "Prompting"})
        award(learner.id, "project_created", event_key="g:p1")
        for i in range(2):
            award(learner.id, "comment_posted", event_key=f"g:c{i}")
    body = fragment(client)
    item = goal_item(body, "Complete 3 activities")
    assert "2 / 3" in item and 'value="2" max="3"' in item and "Completed" not in item
    assert "2 / 5" in goal_item(body, "Help 5 community members")
    assert "1 / 2" in goal_item(body, "Try 2 new quiz topics") and "New topics: Prompting" in body
    with app.app_context():
        award(learner.id, "battle_participated", event_key="g:b1")
    body = fragment(client)
    item = goal_item(body, "Complete 3 activities")
    assert "✓ Completed" in item and "+30 points earned" in item and 'value="3" max="3"' in item
    assert "1 of 4 completed this week" in body
    assert 'hx-trigger="every 30s"' in body                      # other goals still open: keep polling


def test_polling_stops_once_every_goal_is_complete(app, client, learner):
    with app.app_context():
        db.session.execute(db.update(GoalTemplate).where(GoalTemplate.key != "complete_activities")
                           .values(enabled=False))
        db.session.commit()
        for i in range(3):
            award(learner.id, "quiz_completed", event_key=f"all:q{i}")
    body = fragment(client)
    assert "Every goal done this week" in body and "✓ Completed" in body
    assert "hx-trigger" not in body and 'hx-get="/panels/goals"' in body


def test_never_shows_other_learners_points(app, client, learner, make_learner):
    other = make_learner("other", display_name="Olga Other")
    with app.app_context():
        award(other.id, "special_event", event_key="o:big", points=987)
        award(other.id, "quiz_completed", event_key="o:q", metadata={"topic": "Secret topic"})
        award(learner.id, "comment_posted", event_key="me:c")
    body = client.get("/panels/goals").get_data(as_text=True)
    assert "987" not in body and "1,007" not in body and "1007" not in body
    assert "Olga" not in body and "Secret topic" not in body
    assert "1 / 5" in goal_item(fragment(client), "Help 5 community members")


def test_requires_sign_in(client):
    response = client.get("/panels/goals")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = client.get("/panels/goals", headers={"HX-Request": "true"})
    assert "/login" in htmx.headers.get("HX-Redirect", "")
