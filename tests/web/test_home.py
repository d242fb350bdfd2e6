"""Your Thrive Circle (§7): page and panels (full page vs HTMX fragment), celebrations, recommendations."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Celebration, GoalTemplate, WeeklyGoal
from thrive.services.points.award import award
from thrive.timeutil import platform_week, utcnow

PANELS = [("/panels/status", "status-panel"), ("/panels/actions", "actions-panel"), ("/panels/stats", "stats-panel")]


@pytest.fixture
def learner(client, auth, make_learner):
    person = make_learner("learner", display_name="Lea Learner")
    auth.login()
    client.get("/")  # first view of the day: daily_login (+5)
    return person


def test_home_page_shows_own_progress(app, client, learner):
    with app.app_context():
        award(learner.id, "quiz_completed", event_key="h:q1", metadata={"difficulty": "advanced"})  # 50
        award(learner.id, "project_created", event_key="h:p1")  # 20
        db.session.remove()
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Welcome back, Lea Learner" in html
    assert "Ember" in html and "175 points to Spark" in html  # 250 - 75
    assert 'id="tier-progress"' in html and 'value="30"' in html  # 75 / 250
    assert "25 points to level 3" in html  # level 2 at 50, level 3 at 100
    assert "<dt>Total points</dt><dd>75</dd>" in html and "<dt>This week</dt><dd>75</dd>" in html
    assert "<dt>Quizzes completed</dt><dd>1</dd>" in html and "<dt>Projects created</dt><dd>1</dd>" in html
    assert "<dt>Grace days</dt><dd>0 <small>of 2</small></dd>" in html
    assert "Recommended for you" in html


@pytest.mark.parametrize("path,element_id", PANELS)
def test_panel_fragment_vs_page(client, learner, path, element_id):
    page = client.get(path)
    assert "<html" in page.get_data(as_text=True) and f'id="{element_id}"' in page.get_data(as_text=True)
    fragment = client.get(path, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith(f'<article id="{element_id}"')
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    assert 'hx-trigger="every' in body  # the fragment keeps polling itself


def test_root_htmx_request_gets_status_fragment(client, learner):
    body = client.get("/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body.lstrip().startswith('<article id="status-panel"') and "<html" not in body


def test_boosted_request_gets_full_page(client, learner):
    body = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    assert "<html" in body


def _celebrations(app, learner_id):
    with app.app_context():
        rows = db.session.scalars(select(Celebration).where(Celebration.learner_id == learner_id)).all()
        db.session.remove()
        return rows


def test_celebration_arrives_by_status_poll_exactly_once(app, client, learner):
    with app.app_context():
        award(learner.id, "special_event", event_key="h:tier", points=300)  # Ember → Spark
        db.session.remove()
    poll = client.get("/panels/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<div id="celebration-slot" hx-swap-oob="beforeend">' in poll
    assert "You reached Spark!" in poll and "<dialog class=\"celebration\" open data-celebration" in poll
    assert all(c.shown_at is not None for c in _celebrations(app, learner.id))
    again = client.get("/panels/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "celebration" not in again
    assert "You reached Spark!" not in client.get("/").get_data(as_text=True)
    assert "You reached Spark!" not in client.get("/notifications/bell",
                                                  headers={"HX-Request": "true"}).get_data(as_text=True)


def test_celebration_on_full_page_and_bell_poll(app, client, learner):
    with app.app_context():
        award(learner.id, "special_event", event_key="h:lvl", points=100)  # levels 2..3, no tier
        db.session.remove()
    html = client.get("/journey").get_data(as_text=True)  # any page of the layout shows it
    assert html.count("data-celebration ") + html.count("data-celebration\n") == 1
    assert "Level 3!" in html
    assert "Level 3!" not in client.get("/journey").get_data(as_text=True)
    with app.app_context():
        award(learner.id, "special_event", event_key="h:tier2", points=200)  # → Spark
        db.session.remove()
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert bell.lstrip().startswith('<a id="bell"') and "You reached Spark!" in bell
    status = client.get("/panels/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "You reached Spark!" not in status
    assert len(_celebrations(app, learner.id)) == 2


def test_celebration_endpoint(app, client, learner):
    assert client.get("/celebrations/next", headers={"HX-Request": "true"}).get_data(as_text=True).strip() == ""
    with app.app_context():
        award(learner.id, "special_event", event_key="h:c", points=300)
        db.session.remove()
    modal = client.get("/celebrations/next", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<dialog" in modal and "You reached Spark!" in modal and 'aria-labelledby="celebration-title-' in modal
    assert "<dialog" not in client.get("/celebrations/next", headers={"HX-Request": "true"}).get_data(as_text=True)
    plain = client.get("/celebrations/next")
    assert plain.status_code == 302 and plain.headers["Location"] == "/"


def _recommendation_keys(html: str) -> list[str]:
    import re

    return re.findall(r'data-recommendation="([^"]+)"', html)


def test_recommended_actions_change_with_activity(app, client, learner):
    def keys():
        return _recommendation_keys(
            client.get("/panels/actions", headers={"HX-Request": "true"}).get_data(as_text=True))

    before = [k for k in keys() if k.startswith("try:")]
    assert before
    top = before[0].split(":", 1)[1]
    with app.app_context():
        award(learner.id, top, event_key="h:top")
        db.session.remove()
    after = [k for k in keys() if k.startswith("try:")]
    assert f"try:{top}" not in after and after != before

    with app.app_context():  # the week's goal (created lazily by the goals panel, or here)
        template = db.session.scalar(select(GoalTemplate).where(GoalTemplate.key == "help_community"))
        week = platform_week(utcnow())
        goal = db.session.scalar(select(WeeklyGoal).where(WeeklyGoal.learner_id == learner.id,
                                                          WeeklyGoal.week == week,
                                                          WeeklyGoal.template_id == template.id))
        if goal is None:
            goal = WeeklyGoal(learner_id=learner.id, week=week, template_id=template.id, title=template.title,
                              kind=template.kind, activity_types=template.activity_types, target=template.target,
                              reward=template.reward)
            db.session.add(goal)
        goal.progress = 4
        db.session.commit()
        goal_id = goal.id
        db.session.remove()
    html = client.get("/panels/actions", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _recommendation_keys(html)[0] == f"goal:{goal_id}"
    assert "Finish “Help 5 community members”" in html and "1 more to go" in html and "+40 points" in html
    with app.app_context():
        db.session.get(WeeklyGoal, goal_id).completed_at = utcnow()
        db.session.commit()
        db.session.remove()
    assert f"goal:{goal_id}" not in keys()
