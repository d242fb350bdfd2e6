"""Settings (§7, §8.4, §9): profile, topics, privacy switches, notification preferences; nothing half-saved."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Learner, Notification
from thrive.models.community import NOTIFICATION_TYPES
from thrive.services.points.award import award


@pytest.fixture
def learner(client, auth, make_learner):
    person = make_learner("learner", display_name="Lea", topics=["Python"])
    auth.login()
    return person


def _form(client, **overrides):
    html = client.get("/settings").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "display_name": "Lea", "timezone": "UTC", "topics": "Python",
            "share_activities": "y", "share_tier_upgrades": "y", "share_profile": "y"}
    data.update({f"notify_{t}": "y" for t in NOTIFICATION_TYPES})
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _reload(app, learner_id) -> Learner:
    with app.app_context():
        person = db.session.get(Learner, learner_id)
        _ = person.topics  # load before detaching
        db.session.expunge_all()
        return person


def test_page_and_fragment(client, learner):
    page = client.get("/settings")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert 'value="Lea"' in html and 'value="Python"' in html
    assert '<option selected value="UTC">UTC</option>' in html and "Europe/Berlin" in html
    for name in ("share_activities", "share_tier_upgrades", "share_profile"):
        assert f'id="{name}" name="{name}" role="switch" type="checkbox"' in html
    for t in NOTIFICATION_TYPES:
        assert f'name="notify_{t}"' in html
    fragment = client.get("/settings", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<form id="settings-form"')
    assert "HX-Request" in fragment.headers["Vary"]


def test_save_everything_without_js(app, client, learner):
    data = _form(client, display_name="  Lea   Learner ", timezone="Europe/Berlin",
                 topics="Prompt Engineering, python, Data Science", share_profile=None, notify_level_up=None,
                 notify_weekly_recap=None)
    response = client.post("/settings", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    assert "Settings saved." in client.get("/settings").get_data(as_text=True)
    saved = _reload(app, learner.id)
    assert saved.display_name == "Lea Learner" and saved.timezone == "Europe/Berlin"
    assert saved.topics == ["Data Science", "Prompt Engineering", "python"]
    assert saved.share_activities and saved.share_tier_upgrades and not saved.share_profile
    assert saved.notification_prefs["level_up"] is False and saved.notification_prefs["weekly_recap"] is False
    assert all(saved.notification_prefs[t] for t in NOTIFICATION_TYPES if t not in ("level_up", "weekly_recap"))


def test_save_with_htmx_returns_the_form(app, client, learner):
    response = client.post("/settings", data=_form(client, share_activities=None),
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<form id="settings-form"')
    assert "Settings saved." in body and "<html" not in body
    assert not _reload(app, learner.id).share_activities


@pytest.mark.parametrize("field,value,message", [
    ("display_name", "   ", "Enter a display name."),
    ("display_name", "x" * 101, "Field cannot be longer than 100 characters."),
    ("timezone", "Mars/Olympus_Mons", "Not a valid choice."),
    ("topics", "Python, <script>", "unsupported characters"),
    ("topics", ", ".join(f"t{i}" for i in range(21)), "at most 20 topics"),
])
def test_invalid_input_saves_nothing(app, client, learner, field, value, message):
    data = _form(client, share_profile=None, notify_tier_up=None, display_name="Changed Name")
    data[field] = value
    response = client.post("/settings", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please fix the fields marked below." in html and message in html
    assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
    unchanged = _reload(app, learner.id)
    assert unchanged.display_name == "Lea" and unchanged.share_profile and unchanged.topics == ["Python"]
    assert unchanged.notification_prefs.get("tier_up", True) is True
    htmx = client.post("/settings", data=data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and message in htmx.get_data(as_text=True)  # htmx swaps 2xx only


def test_settings_require_csrf(app, client, learner):
    data = _form(client, display_name="Hacker")
    data.pop("csrf_token")
    assert client.post("/settings", data=data).status_code == 400
    assert _reload(app, learner.id).display_name == "Lea"


def test_notification_preferences_are_honoured(app, client, learner):
    client.post("/settings", data=_form(client, notify_level_up=None))
    with app.app_context():
        result = award(learner.id, "special_event", event_key="st:1", points=300)  # tier and levels up
        assert result.tier_upgraded and result.level_upgraded
        types = db.session.scalars(select(Notification.type).where(Notification.learner_id == learner.id)).all()
        db.session.remove()
    assert "tier_up" in types and "level_up" not in types
    client.post("/settings", data=_form(client))  # back on
    with app.app_context():
        award(learner.id, "special_event", event_key="st:2", points=300)
        types = db.session.scalars(select(Notification.type).where(Notification.learner_id == learner.id)).all()
        db.session.remove()
    assert "level_up" in types


def test_display_name_is_escaped(client, learner):
    client.post("/settings", data=_form(client, display_name="<b>Bold</b>"))
    html = client.get("/").get_data(as_text=True)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold</b>" not in html
