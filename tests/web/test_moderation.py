"""Reporting feed items and moderating them through the pages (§8.1, §11): CSRF, HTMX and no-JS,
a hidden item gone from every feed, fragment, profile and circle panel, no cheers, one audit entry."""
from __future__ import annotations

import html as htmllib
import re
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


def test_feed_fetches_the_report_form_only_when_opened(app, client, auth, make_learner):
    """Issue 11 (Lighthouse): the feed carries no report form per item — "Report" fetches it (HTMX), and
    without JavaScript links to the same form as a page; both post to /community/report."""
    viewer, poster, quiz = setup_people(app, make_learner)
    login(client, auth, viewer)
    page = text(client.get("/community"))
    box = re.search(rf'<details class="report-box" id="feed-entry-{quiz.event_id}-report".*?</details>', page, re.S)
    assert box and "<select" not in box.group(0) and 'hx-trigger="toggle once"' in box.group(0)
    url = htmllib.unescape(re.search(r'<a href="([^"]+)">Open the report form</a>', box.group(0)).group(1))
    assert url == f"/community/report?kind=entry&id={quiz.event_id}&next=/community"
    fragment = client.get(url, headers=HX)
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and "HX-Request" in fragment.headers["Vary"]
    assert body.lstrip().startswith("<form") and f'hx-target="#feed-entry-{quiz.event_id}-report"' in body
    assert 'name="reason"' in body and 'name="csrf_token"' in body and 'value="/community"' in body
    whole = text(client.get(url))  # no JavaScript: the same form on a page of its own
    assert "<html" in whole and "<h1>Report</h1>" in whole and 'name="reason"' in whole
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', whole))
    sent = client.post("/community/report", data={**data, "reason": "spam"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/community"
    with app.app_context():
        assert len(db.session.scalars(select(FeedReport)).all()) == 1
    assert client.get("/community/report?kind=entry&id=0").status_code == 404
    assert client.get("/community/report?kind=nope&id=3").status_code == 404
    evil = text(client.get(f"/community/report?kind=entry&id={quiz.event_id}&next=https://evil.example/"))
    assert "evil.example" not in evil  # next stays on this site


def test_report_page_names_the_item_only_when_it_is_in_feeds(app, client, auth, make_learner):
    """Without JavaScript the report page says what is being reported — the actor's name as the feed shows
    it and the item's sentence — and a non-sharing learner's activity is never described (§8.4): 404."""
    viewer, poster, quiz = setup_people(app, make_learner)
    hidden_actor = make_learner("quiet", display_name="Quiet Quinn", share_activities=False)
    secret = give(app, hidden_actor.id, "quiz_completed", metadata={"topic": "Secrets"}, at=ago(minutes=2))
    anonymous = make_learner("anon", display_name="Anon Ann", share_profile=False)
    masked = give(app, anonymous.id, "quiz_completed", metadata={"topic": "Masks"}, at=ago(minutes=1))
    login(client, auth, viewer)
    page = text(client.get(f"/community/report?kind=entry&id={quiz.event_id}&next=/community"))
    subject = re.search(r'<blockquote class="report-subject">(.*?)</blockquote>', page, re.S).group(1)
    assert "Poster Pat" in subject and "Zebras" in subject
    assert 'name="reason"' in page
    refused = client.get(f"/community/report?kind=entry&id={secret.event_id}")
    assert refused.status_code == 404 and "Quiet Quinn" not in text(refused) and "Secrets" not in text(refused)
    masked_page = text(client.get(f"/community/report?kind=entry&id={masked.event_id}"))
    assert "Anon Ann" not in masked_page and "A learner" in masked_page and "Masks" in masked_page
    assert client.get("/community/report?kind=tier_up&id=999999").status_code == 404
