"""Notifications (§7, §9): list newest first and paged, mark one / all read (HTMX and plain), the bell."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Notification
from thrive.services.errors import NotFound
from thrive.services.notifications import inbox
from thrive.timeutil import utcnow


def _notify(app, learner_id, count, *, start=0, link=None):
    ids = []
    with app.app_context():
        base = utcnow()
        for i in range(start, start + count):
            note = Notification(learner_id=learner_id, type="points_adjusted", title=f"Note {i}", body=f"Body {i}",
                                link=link, created_at=base - timedelta(minutes=100 - i))
            db.session.add(note)
            db.session.flush()
            ids.append(note.id)
        db.session.commit()
        db.session.remove()
    return ids


@pytest.fixture
def learner(client, auth, make_learner):
    person = make_learner("learner")
    auth.login()
    return person


def test_list_newest_first_and_paged(app, client, learner):
    _notify(app, learner.id, 25, link="/community")
    html = client.get("/notifications").get_data(as_text=True)
    assert "25 unread" in html
    assert html.index("Note 24") < html.index("Note 23") < html.index("Note 5")
    assert "Note 4" not in html and 'href="/notifications?page=2"' in html
    assert '<a href="/community">Note 24</a>' in html
    second = client.get("/notifications?page=2", headers={"HX-Request": "true"})
    body = second.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="notification-list"') and "<html" not in body
    assert "Note 4" in body and "Note 0" in body and "Note 5" not in body
    assert "HX-Request" in second.headers["Vary"]


def test_mark_one_read_without_js(app, client, learner):
    ids = _notify(app, learner.id, 2)
    html = client.get("/notifications").get_data(as_text=True)
    response = client.post(f"/notifications/{ids[0]}/read", data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    after = client.get("/notifications").get_data(as_text=True)
    assert "Marked as read." in after and "1 unread" in after
    with app.app_context():
        assert db.session.get(Notification, ids[0]).read_at is not None
        assert db.session.get(Notification, ids[1]).read_at is None


def test_mark_one_read_with_htmx_updates_list_and_bell(app, client, learner):
    ids = _notify(app, learner.id, 3)
    token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    response = client.post(f"/notifications/{ids[1]}/read", data={"page": "1"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="notification-list"')
    assert "2 unread" in body
    assert 'id="bell"' in body and 'hx-swap-oob="true"' in body and "Notifications, 2 unread" in body


def test_mark_all_read(app, client, learner, make_learner):
    other = make_learner("other")
    _notify(app, learner.id, 4)
    theirs = _notify(app, other.id, 1)
    token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    response = client.post("/notifications/read-all", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Marked 4 notifications as read." in html and "All caught up" in html
    with app.app_context():
        assert db.session.get(Notification, theirs[0]).read_at is None  # someone else's stay unread
        assert inbox.unread_count(learner.id) == 0
    htmx = client.post("/notifications/read-all", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert "All caught up" in htmx.get_data(as_text=True) and "none unread" in htmx.get_data(as_text=True)


def test_cannot_mark_someone_elses_notification(app, client, learner, make_learner):
    other = make_learner("other")
    theirs = _notify(app, other.id, 1)
    token = csrf_token_from(client.get("/notifications").get_data(as_text=True))
    assert client.post(f"/notifications/{theirs[0]}/read", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Notification, theirs[0]).read_at is None
        with pytest.raises(NotFound):
            inbox.mark_read(learner.id, theirs[0])


def test_bell_fragment_and_header_count(app, client, learner):
    assert 'aria-label="Notifications, none unread"' in client.get("/").get_data(as_text=True)
    _notify(app, learner.id, 3)
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"})
    body = bell.get_data(as_text=True)
    assert body.lstrip().startswith('<a id="bell"') and "<html" not in body
    assert 'aria-label="Notifications, 3 unread"' in body
    assert '<span class="bell-count" aria-hidden="true">3</span>' in body
    assert 'hx-trigger="every 30s"' in body and "HX-Request" in bell.headers["Vary"]
    assert '<a id="header-tier" href="/" class="header-tier" hx-swap-oob="true"' in body  # tier-ups show up too
    assert 'aria-label="Notifications, 3 unread"' in client.get("/journey").get_data(as_text=True)
    plain = client.get("/notifications/bell")
    assert plain.status_code == 302 and plain.headers["Location"] == "/notifications"


def test_award_notifications_reach_the_list(app, client, learner):
    from thrive.services.points.award import award

    with app.app_context():
        award(learner.id, "special_event", event_key="n:1", points=300)
        titles = db.session.scalars(select(Notification.title).where(Notification.learner_id == learner.id)).all()
        db.session.remove()
    html = client.get("/notifications").get_data(as_text=True)
    assert sorted(titles) == ["Level 5! Up 4 levels", "You reached Spark! ✨"]  # stored English, for logs
    assert "You reached Spark!" in html and "Level 5!" in html and "Up 4 levels" in html  # worded (issue 11)


def test_empty_state(client, learner):
    assert "No notifications yet." in client.get("/notifications").get_data(as_text=True)
