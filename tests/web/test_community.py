"""Community pages (§7, §8): page vs HTMX fragment, paging, cheers, follows, discover, stats."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.community_support import ago, give, login, set_total
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Cheer, Follow, Learner, LedgerEntry, Notification
from thrive.web.notifications.text import notification_views

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fresh_stats(app):
    """Fresh community stats on every request (the cache is exercised in its own test)."""
    app.config["THRIVE_COMMUNITY_STATS_CACHE_SECONDS"] = 0


@pytest.fixture
def viewer(client, auth, make_learner):
    learner = make_learner("viewer", display_name="Viewer")
    login(client, auth, learner)
    return learner


def token(client, path="/community") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def text(response) -> str:
    return response.get_data(as_text=True)


# --- access ------------------------------------------------------------------------------------

GET_PATHS = ["/community", "/community/feed", "/community/following", "/community/stats", "/community/discover",
             "/u/someone", "/u/someone/followers", "/u/someone/following"]
POST_PATHS = ["/community/cheer", "/u/someone/follow", "/u/someone/unfollow", "/community/following/1/unfollow"]


@pytest.mark.parametrize("path", GET_PATHS)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = client.get(path, headers=HX)
    assert htmx.headers.get("HX-Redirect", "").startswith("/login")


@pytest.mark.parametrize("path", POST_PATHS)
def test_anonymous_posts_are_sent_to_sign_in(client, path):
    csrf = token(client, "/login")
    response = client.post(path, data={"csrf_token": csrf, "kind": "entry", "id": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = client.post(path, data={"csrf_token": csrf}, headers=HX)
    assert htmx.headers.get("HX-Redirect", "").startswith("/login")


# --- page and fragments --------------------------------------------------------------------------

@pytest.mark.parametrize("path, panel", [
    ("/community", "feed-panel"),
    ("/community/feed", "feed-panel"),
    ("/community/following", "feed-panel"),
    ("/community/stats", "community-stats"),
    ("/community/discover", "discover-panel"),
])
def test_page_and_fragment_from_one_url(app, client, viewer, make_learner, path, panel):
    peer = make_learner("peer", display_name="Peer Person")
    give(app, peer.id, metadata={"topic": "Graphs"}, at=ago(minutes=3))
    page = client.get(path)
    assert page.status_code == 200 and "HX-Request" in page.headers.get("Vary", "")
    body = text(page)
    assert "<html" in body
    for pid in ("community-stats", "feed-panel", "discover-panel"):
        assert f'id="{pid}"' in body
    fragment = client.get(path, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers.get("Vary", "")
    frag = text(fragment)
    assert "<html" not in frag and f'id="{panel}"' in frag
    assert all(f'id="{other}"' not in frag for other in ("community-stats", "feed-panel", "discover-panel")
               if other != panel)


def test_panels_poll_at_the_specified_intervals(client, viewer):
    body = text(client.get("/community"))
    assert re.search(r'id="community-stats"[^>]*hx-trigger="every 60s"', body.replace("\n", " "))
    assert re.search(r'id="feed-poll"[^>]*hx-trigger="every 60s"', body)
    assert re.search(r'id="discover-panel"[^>]*hx-trigger="every 120s"', body.replace("\n", " "))


def test_feed_sentences_and_grouping_rendered(app, client, viewer, make_learner):
    names = ["Sarah", "Marcus", "Aisha"]
    people = [make_learner(n.lower(), display_name=n) for n in names]
    give(app, people[0].id, "project_created", at=ago(minutes=30))
    for n, p in enumerate(people):
        give(app, p.id, "quiz_completed", metadata={"topic": "DDD"}, at=ago(minutes=10 - n))
    give(app, people[2].id, "special_event", points=300, at=ago(minutes=1))
    body = text(client.get("/community/feed", headers=HX))
    assert "reached Spark!" in body and "took part in a special event" in body
    assert "3 people completed a quiz" in body
    assert re.search(r'>Sarah</a> created a project', body)
    # issue 12: the page lists a group's headline only; opening it fetches its items (HTMX), and without
    # JavaScript its link shows them on a page of their own
    assert "completed a quiz on DDD" not in body
    match = re.search(r'<details hx-get="(/community/group\?key=[^"]+)" hx-trigger="toggle once"[^>]*>\s*<summary>'
                      r'\s*<span class="feed-sentence">3 people completed a quiz', body)
    assert match
    group_url = match.group(1).replace("&amp;", "&")
    assert f'<a href="{match.group(1)}">See who</a>' in body
    items = text(client.get(group_url, headers=HX))
    assert "<html" not in items and items.count("completed a quiz on DDD") == 3
    assert all(f'>{n}</a> completed a quiz on DDD' in items for n in names)
    assert items.count('class="cheer secondary outline"') == 3     # cheerable there, as on the page
    page = text(client.get(group_url))
    assert "<html" in page and "3 people completed a quiz" in page and page.count("completed a quiz on DDD") == 3
    assert f'name="next" value="{group_url}"' in page.replace("&amp;", "&")   # a non-JS cheer comes back here
    assert client.get("/community/group?key=quiz_completed:1999-01-01").status_code == 404


def test_feed_group_follows_privacy_and_the_following_tab(app, client, viewer, make_learner):
    people = [make_learner(f"gee{i}", display_name=f"Gee {i}") for i in range(4)]
    for n, p in enumerate(people):   # Gee 0 newest: listed among the group's newest three
        give(app, p.id, "quiz_completed", metadata={"topic": "DDD"}, at=ago(minutes=1 + n))
    body = text(client.get("/community/feed", headers=HX))
    group_url = re.search(r'hx-get="(/community/group\?key=[^"]+)"', body).group(1).replace("&amp;", "&")
    assert "Gee 0" in text(client.get(group_url, headers=HX))
    # without JavaScript the group is a page, headed by the group's headline (no link inside it)
    heading = re.search(r'<h2 id="feed-group-heading" class="feed-sentence">(.*?)</h2>', text(client.get(group_url)))
    assert heading and "4 people" in heading.group(1) and "quiz" in heading.group(1) and "<a" not in heading.group(1)
    with app.app_context():
        db.session.get(Learner, people[0].id).share_activities = False   # stops sharing: gone at once
        db.session.commit()
    items = text(client.get(group_url, headers=HX))
    assert "Gee 0" not in items and all(f"Gee {i}" in items for i in (1, 2, 3))
    # the Following tab's groups hold followed learners only
    for username in ("gee1", "gee2", "gee3"):
        client.post(f"/u/{username}/follow", data={"csrf_token": token(client)})
    following = text(client.get("/community/following", headers=HX))
    assert "Gee 1" not in following                       # a group headline, no names listed
    f_url = re.search(r'hx-get="(/community/group\?tab=following&amp;key=[^"]+)"', following).group(1)
    f_items = text(client.get(f_url.replace("&amp;", "&"), headers=HX))
    assert all(f"Gee {i}" in f_items for i in (1, 2, 3)) and "Gee 0" not in f_items


def test_load_more_works_with_and_without_javascript(app, client, viewer, make_learner):
    a, b = make_learner(), make_learner()
    # issue 11: the feed groups over the whole window (one unit per activity type and day), so 25 units
    # need 25 buckets: five activity types on five days, one item each
    kinds = ["comment_posted", "project_updated", "quiz_completed", "project_created", "feedback_given"]
    for i in range(25):
        give(app, (a if i % 2 else b).id, kinds[i % 5], at=ago(days=i // 5, minutes=30 + i))
    first = text(client.get("/community"))
    match = re.search(r'href="(/community/feed\?before=[^"]+)"', first)
    assert match and 'id="feed-more"' in first
    more_url = match.group(1).replace("&amp;", "&")

    page2 = client.get(more_url)                      # no JavaScript: a full page from the cursor
    body2 = text(page2)
    assert "<html" in body2 and "Back to the newest" in body2 and 'id="feed-poll"' not in body2
    assert 'id="feed-more"' not in body2
    ids_first = set(re.findall(r'id="feed-entry-(\d+)"', first))
    ids_second = set(re.findall(r'id="feed-entry-(\d+)"', body2))
    assert len(ids_first) == 20 and len(ids_second) == 5 and not ids_first & ids_second

    fragment = text(client.get(more_url, headers=HX))  # HTMX: just the next items, and polling stops
    assert "<html" not in fragment and "<section" not in fragment
    assert set(re.findall(r'id="feed-entry-(\d+)"', fragment)) == ids_second
    assert 'id="feed-poll" hx-swap-oob="true"' in fragment

    assert client.get("/community/feed?before=garbage").status_code == 400


def test_following_tab_shows_only_followed_learners(app, client, viewer, make_learner):
    followed = make_learner("followed", display_name="Followed One")
    other = make_learner("other", display_name="Other One")
    give(app, followed.id, at=ago(minutes=5))
    give(app, other.id, at=ago(minutes=4))
    empty = text(client.get("/community/following", headers=HX))
    assert "Find people to follow" in empty
    client.post("/u/followed/follow", data={"csrf_token": token(client)})
    body = text(client.get("/community/following", headers=HX))
    assert "Followed One" in body and "Other One" not in body
    assert 'aria-current="page">Following' in body


# --- cheers --------------------------------------------------------------------------------------

def _entry_ids(client) -> list[int]:
    return [int(i) for i in re.findall(r'id="feed-entry-(\d+)"', text(client.get("/community/feed", headers=HX)))]


def test_cheer_with_htmx_shows_toast_and_cheered_state(app, client, viewer, make_learner):
    sarah = make_learner("sarah", display_name="Sarah")
    first = give(app, sarah.id, at=ago(minutes=5)).event_id
    second = give(app, sarah.id, "project_created", at=ago(minutes=4)).event_id
    csrf = token(client)

    response = client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": first}, headers=HX)
    assert response.status_code == 200
    assert "Cheered" in text(response) and "1 cheer" in text(response) and "<html" not in text(response)
    assert json.loads(response.headers["HX-Trigger"])["thrive:points"]["points"] == 2

    again = client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": first}, headers=HX)
    assert again.status_code == 200 and "Cheered" in text(again) and "HX-Trigger" not in again.headers

    response = client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": second}, headers=HX)
    assert json.loads(response.headers["HX-Trigger"])["thrive:points"]["points"] == 1  # diminishing
    with app.app_context():
        assert db.session.scalar(select(func.count(Cheer.id))) == 2
        assert db.session.scalar(select(func.sum(LedgerEntry.points)).where(
            LedgerEntry.learner_id == viewer.id, LedgerEntry.activity_type == "reaction_given")) == 3
    feed = text(client.get("/community/feed", headers=HX))
    assert feed.count(">👏</span> Cheered") == 2


def test_cheer_without_javascript_redirects_back(app, client, viewer, make_learner):
    sarah = make_learner("sarah", display_name="Sarah")
    item = give(app, sarah.id, at=ago(minutes=5)).event_id
    response = client.post("/community/cheer", data={"csrf_token": token(client), "kind": "entry", "id": item,
                                                      "next": "/community/feed"})
    assert response.status_code == 302 and response.headers["Location"] == "/community/feed"
    assert "You cheered Sarah on! +2 points" in text(client.get("/community"))
    evil = client.post("/community/cheer", data={"csrf_token": token(client), "kind": "entry", "id": item,
                                                 "next": "https://evil.example/"})
    assert evil.headers["Location"] == "/community"


def test_cheer_errors(app, client, viewer, make_learner):
    own = give(app, viewer.id, at=ago(minutes=5)).event_id
    csrf = token(client)
    assert client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": own}).status_code == 400
    assert client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": "x"}).status_code == 400
    assert client.post("/community/cheer", data={"csrf_token": csrf, "kind": "nope", "id": 1}).status_code == 400
    assert client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": 99999}).status_code == 404
    assert client.post("/community/cheer", data={"kind": "entry", "id": own}).status_code == 400  # no CSRF token
    json_error = client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": own},
                             headers={"Accept": "application/json"})
    assert json_error.get_json()["error"]["code"] == "cannot_cheer_self"
    # own items have no cheer button, other people's do
    peer = make_learner()
    other = give(app, peer.id, at=ago(minutes=4)).event_id
    feed = text(client.get("/community/feed", headers=HX))
    items = dict(re.findall(r'<li class="feed-item" id="feed-entry-(\d+)">(.*?)</li>', feed, re.S))
    assert "Cheer</button>" not in items[str(own)] and "Cheer</button>" in items[str(other)]


# --- follows and discover ------------------------------------------------------------------------

def test_follow_and_unfollow_with_htmx_and_without(app, client, viewer, make_learner):
    sarah = make_learner("sarah", display_name="Sarah")
    csrf = token(client)
    response = client.post("/u/sarah/follow", data={"csrf_token": csrf}, headers=HX)
    assert response.status_code == 200 and "Unfollow" in text(response) and "<html" not in text(response)
    with app.app_context():
        assert db.session.get(Follow, (viewer.id, sarah.id)) is not None
        note = db.session.scalar(select(Notification).where(Notification.learner_id == sarah.id))
        with app.test_request_context():
            (shown,) = notification_views([note])  # worded at display time (§8.4)
        assert note.type == "new_follower" and "Viewer" in shown.title
    response = client.post("/u/sarah/unfollow", data={"csrf_token": csrf, "next": "/community/discover"})
    assert response.status_code == 302 and response.headers["Location"] == "/community/discover"
    with app.app_context():
        assert db.session.get(Follow, (viewer.id, sarah.id)) is None
    response = client.post("/u/sarah/follow", data={"csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"] == "/u/sarah"
    assert client.post("/u/viewer/follow", data={"csrf_token": csrf}).status_code == 400
    assert client.post("/u/nobody/follow", data={"csrf_token": csrf}).status_code == 404
    assert client.post("/u/sarah/follow").status_code == 400  # CSRF


def test_discover_shows_people_with_follow_buttons_and_filters(app, client, viewer, make_learner):
    py = make_learner("pyfan", display_name="Py Fan", topics=["Python"])
    make_learner("rustfan", display_name="Rust Fan", topics=["Rust"])
    spark = make_learner("sparky", display_name="Sparky", topics=["Python"])
    set_total(app, spark.id, 300)
    body = text(client.get("/community/discover", headers=HX))
    for name in ("Py Fan", "Rust Fan", "Sparky"):
        assert name in body
    assert 'aria-label="Follow Py Fan"' in body and "Viewer" not in body
    body = text(client.get("/community/discover?topic=python", headers=HX))
    assert "Py Fan" in body and "Sparky" in body and "Rust Fan" not in body
    body = text(client.get("/community/discover?tier=spark&topic=python", headers=HX))
    assert "Sparky" in body and "Py Fan" not in body
    assert 'hx-get="/community/discover?tier=spark&amp;topic=python"' in body  # polling keeps the filters
    bad = client.get("/community/discover?tier=diamond")
    assert bad.status_code == 400 and "unknown tier" in text(bad)
    client.post("/u/pyfan/follow", data={"csrf_token": token(client)})
    body = text(client.get("/community/discover?topic=python", headers=HX))
    assert 'aria-label="Unfollow Py Fan"' in body
    assert py.id


def test_discover_suggests_the_viewers_own_topics(app, client, auth, make_learner):
    """The topic filter's suggestions are the viewer's topics (read with the cards' topics, issue 12)."""
    make_learner("pyfan", display_name="Py Fan", topics=["Python"])
    topical = make_learner("topical", display_name="Topical", topics=["Zoology", "Astronomy"])
    login(client, auth, topical)
    for response in (client.get("/community"), client.get("/community/discover", headers=HX),
                     client.get("/community/discover?tier=diamond")):   # a bad filter: still suggested
        body = text(response)
        assert ('<datalist id="discover-my-topics"><option value="Astronomy"><option value="Zoology"></datalist>'
                in body)
    client.post("/logout", data={"csrf_token": token(client)})
    login(client, auth, make_learner("notopics", display_name="No Topics"))
    assert "discover-my-topics" not in text(client.get("/community/discover", headers=HX))


# --- stats ---------------------------------------------------------------------------------------

def test_stats_are_aggregates_shown_from_three_active_learners(app, client, viewer, make_learner):
    body = text(client.get("/community/stats", headers=HX))   # only the viewer (daily visit) is active
    assert "Shown once 3 learners are active" in body
    a, b = make_learner(), make_learner(share_tier_upgrades=False)
    give(app, a.id, "special_event", points=300, at=ago(minutes=5))   # a tier-up, shared
    give(app, b.id, "special_event", points=300, at=ago(minutes=4))   # a tier-up, not shared
    body = text(client.get("/community/stats", headers=HX))
    numbers = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>([^<]+)</dd>", body))
    assert numbers["Points earned together"] == "600"  # 605, rounded down to 50 (issue 10: no differencing)
    assert numbers["Tier upgrades celebrated"] == "1"
    assert numbers["Active learners"] == "3"
    assert 'class="community-message"' in body


def test_stats_are_cached_per_app_when_configured(app, viewer, client, make_learner):
    app.config["THRIVE_COMMUNITY_STATS_CACHE_SECONDS"] = 300
    first = text(client.get("/community/stats", headers=HX))
    give(app, make_learner().id, at=ago(minutes=1))
    assert text(client.get("/community/stats", headers=HX)) == first
    app.config["THRIVE_COMMUNITY_STATS_CACHE_SECONDS"] = 0
    assert text(client.get("/community/stats", headers=HX)) != first


def test_user_text_is_escaped(app, client, viewer, make_learner):
    bad = make_learner("badname", display_name="<script>alert(1)</script>")
    give(app, bad.id, metadata={"topic": "<img src=x onerror=alert(1)>"}, at=ago(minutes=1))
    body = text(client.get("/community"))
    assert "<script>alert(1)</script>" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
