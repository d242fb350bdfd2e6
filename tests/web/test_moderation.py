"""Reporting feed items and moderating them through the pages (§8.1, §11): CSRF, HTMX and no-JS,
a hidden item gone from every feed, fragment, profile and circle panel, no cheers, one audit entry."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.community_support import ago, give, login
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import AuditEntry, FeedReport
from thrive.services.weekly.circles import assign_circles
from thrive.timeutil import platform_week, utcnow

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def setup_people(app, make_learner):
    viewer = make_learner("viewer", display_name="Viewer")
    poster = make_learner("poster", display_name="Poster Pat")
    for person in (viewer, poster):
        give(app, person.id, "comment_posted", at=utcnow() - timedelta(days=8))
    with app.app_context():
        assign_circles(platform_week(utcnow()))
        db.session.remove()
    quiz = give(app, poster.id, "quiz_completed", metadata={"topic": "Zebras"}, at=ago(minutes=3))
    return viewer, poster, quiz


def report(client, quiz_id, **extra):
    token = csrf_token_from(text(client.get("/community")))
    data = {"csrf_token": token, "kind": "entry", "id": str(quiz_id), "reason": "spam", "next": "/community", **extra}
    return data


def test_report_form_is_on_feed_items_but_not_ones_own(app, client, auth, make_learner):
    viewer, poster, quiz = setup_people(app, make_learner)
    login(client, auth, viewer)
    html = text(client.get("/community/feed", headers=HX))
    assert f'id="feed-entry-{quiz.event_id}-report"' in html
    own = give(app, viewer.id, "quiz_completed", metadata={"topic": "Mine"})
    html = text(client.get("/community/feed", headers=HX))
    assert f'id="feed-entry-{own.event_id}-report"' not in html


def test_report_needs_csrf_and_works_with_and_without_javascript(app, client, auth, make_learner):
    viewer, poster, quiz = setup_people(app, make_learner)
    login(client, auth, viewer)
    data = report(client, quiz.event_id)
    refused = client.post("/community/report", data={k: v for k, v in data.items() if k != "csrf_token"})
    assert refused.status_code == 400
    bad = client.post("/community/report", data={**data, "reason": ""}, headers=HX)
    assert bad.status_code == 400 and "Choose a reason." in text(bad) and "<html" not in text(bad)
    ok = client.post("/community/report", data=data, headers=HX)
    assert ok.status_code == 201 and "a moderator will take a look" in text(ok)
    again = client.post("/community/report", data=data)  # no JS: redirect back with a message
    assert again.status_code == 303 and again.headers["Location"] == "/community"
    assert "You already reported this" in text(client.get("/community"))
    with app.app_context():
        assert len(db.session.scalars(select(FeedReport)).all()) == 1


def test_moderator_hides_a_reported_item_everywhere(app, client, auth, make_learner):
    viewer, poster, quiz = setup_people(app, make_learner)
    make_learner("mod", staff_role="moderator")
    login(client, auth, viewer)
    client.post("/community/report", data=report(client, quiz.event_id), headers=HX)
    pages = ["/community", "/community/feed", "/u/poster", "/panels/circle"]
    for path in pages:
        assert "Zebras" in text(client.get(path)), path
        assert "Zebras" in text(client.get(path, headers=HX)), path
    auth.logout()

    auth.login("mod")
    queue = text(client.get("/admin/moderation"))
    assert "Poster Pat" in queue and "Zebras" in queue and "Spam (1)" in queue
    token = csrf_token_from(queue)
    hidden = client.post("/admin/moderation/hide", data={"csrf_token": token, "kind": "entry",
                                                         "id": str(quiz.event_id), "note": "spam"})
    assert hidden.status_code == 303
    assert "No open reports" in text(client.get("/admin/moderation"))
    history = text(client.get(f"/admin/moderation/learners/{poster.id}"))
    assert "Zebras" in history and "hide" in history
    with app.app_context():
        assert list(db.session.scalars(select(AuditEntry.action))) == ["feed.hide"]
    assert client.get("/admin/rules").status_code == 403
    client.post("/logout", data={"csrf_token": token})

    login(client, auth, viewer)
    for path in pages:
        assert "Zebras" not in text(client.get(path)), path
        assert "Zebras" not in text(client.get(path, headers=HX)), path
    cheer = client.post("/community/cheer", data={"csrf_token": csrf_token_from(text(client.get("/community"))),
                                                  "kind": "entry", "id": str(quiz.event_id)}, headers=HX)
    assert cheer.status_code == 404
