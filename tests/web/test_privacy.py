"""Privacy and non-competition on every community page, fragment and profile (§1.3, §8.4).

Peers get distinctive totals (7,777 and 4,321 points); whatever another
learner can open must never show them, in any spelling. Then each privacy
switch is checked where people are shown.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.community_support import ago, give, login, set_total
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Learner, LedgerEntry, Notification
from thrive.services.community import follows

HX = {"HX-Request": "true"}
FORBIDDEN = ("7,777", "7777", "4,321", "4321")


@pytest.fixture(autouse=True)
def fresh_stats(app):
    app.config["THRIVE_COMMUNITY_STATS_CACHE_SECONDS"] = 0


def text(response) -> str:
    return response.get_data(as_text=True)


def no_peer_amounts(body: str, where: str) -> None:
    for amount in FORBIDDEN:
        assert amount not in body, f"{amount} shown on {where}"


@pytest.fixture
def world(app, client, auth, make_learner):
    """A viewer and two peers with distinctive totals who share everything and follow each other."""
    viewer = make_learner("viewer", display_name="Viewer", topics=["Privacy"])
    seven = make_learner("seven", display_name="Seven Sevens", topics=["Privacy"])
    four = make_learner("four", display_name="Four Ones", topics=["Privacy"])
    set_total(app, seven.id, 7777, at=ago(minutes=30))
    set_total(app, four.id, 4321, at=ago(minutes=20))
    with app.app_context():
        for who in (seven, four):
            state = db.session.get(Learner, who.id).state
            assert state.total_points == state.weekly_points or state.weekly_week is not None
        assert db.session.get(Learner, seven.id).state.total_points == 7777
        assert db.session.get(Learner, four.id).state.total_points == 4321
        follows.follow(seven.id, viewer.id)
        follows.follow(four.id, seven.id)
        db.session.remove()
    login(client, auth, viewer)
    client.get("/community")
    return viewer, seven, four


def test_peer_totals_never_appear_on_community_pages(app, client, world):
    viewer, seven, four = world
    csrf = csrf_token_from(text(client.get("/community")))
    client.post("/u/seven/follow", data={"csrf_token": csrf})
    client.post("/u/four/follow", data={"csrf_token": csrf})
    paths = [
        "/community", "/community/feed", "/community/following", "/community/stats", "/community/discover",
        "/community/discover?tier=phoenix", "/community/discover?topic=privacy",
        "/u/seven", "/u/four", "/u/seven/followers", "/u/seven/following", "/u/four/followers",
        "/u/four/following", "/u/viewer", "/u/viewer/followers", "/u/viewer/following",
    ]
    seen = ""
    for path in paths:
        for headers in ({}, HX):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            no_peer_amounts(text(response), f"{path} {headers}")
            seen += text(response)
    # not vacuous: the peers and their activity are on these pages
    assert "Seven Sevens" in seen and "Four Ones" in seen and "reached Phoenix!" in seen
    assert "completed a quiz on Privacy" in seen

    # responses to actions, too
    with app.app_context():
        quiz = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.learner_id == seven.id,
                                                              LedgerEntry.activity_type == "quiz_completed"))
    for response in (
        client.post("/community/cheer", data={"csrf_token": csrf, "kind": "entry", "id": quiz}, headers=HX),
        client.post("/u/four/unfollow", data={"csrf_token": csrf}, headers=HX),
        client.post("/u/four/follow", data={"csrf_token": csrf}, headers=HX),
    ):
        assert response.status_code == 200
        no_peer_amounts(text(response) + str(response.headers), "an action response")
    # the aggregate is there (that is allowed) and is not one person's amount
    stats = text(client.get("/community/stats", headers=HX))
    together = re.search(r"Points earned together</dt>\s*<dd>([\d,]+)<", stats).group(1)
    assert int(together.replace(",", "")) > 7777 + 4321


@pytest.mark.parametrize("path", ["/", "/journey", "/settings", "/notifications"])
def test_peer_totals_never_appear_on_other_learner_pages(client, world, path):
    response = client.get(path)
    assert response.status_code == 200
    no_peer_amounts(text(response), path)
    no_peer_amounts(text(client.get(path, headers=HX)), f"{path} (HTMX)")


def test_share_activities_off_never_in_any_feed(app, client, auth, make_learner):
    viewer = make_learner("viewer", display_name="Viewer")
    ghost = make_learner("ghosty", display_name="Ghost Person", share_activities=False)
    give(app, ghost.id, "quiz_completed", metadata={"topic": "Ghost Topic"}, at=ago(minutes=10))
    give(app, ghost.id, "special_event", points=300, at=ago(minutes=5))  # a tier-up, which they do share
    login(client, auth, viewer)
    csrf = csrf_token_from(text(client.get("/community")))
    client.post("/u/ghosty/follow", data={"csrf_token": csrf})
    for path in ("/community", "/community/feed", "/community/following", "/u/ghosty"):
        for headers in ({}, HX):
            body = text(client.get(path, headers=headers))
            feed = re.search(r'id="(feed-panel|profile-activity)".*?</section>', body, re.S).group(0)
            assert "Ghost Topic" not in feed, path
            assert "Ghost Person" not in feed or feed.count("Ghost Person") == feed.count("keeps their activity"), path
            assert "reached Spark" not in feed and "special event" not in feed, path
    assert "Ghost Person keeps their activity private." in text(client.get("/u/ghosty"))
    # they still share their profile: discover shows them
    assert "Ghost Person" in text(client.get("/community/discover", headers=HX))


def test_share_profile_off_absent_from_discover_404_and_a_learner_elsewhere(app, client, auth, make_learner):
    viewer = make_learner("viewer", display_name="Viewer", topics=["Privacy"])
    hidden = make_learner("zorblhidden", display_name="Zorbl Person", share_profile=False, topics=["Privacy"])
    for _ in range(3):
        make_learner(topics=["Privacy"])
    give(app, hidden.id, "quiz_completed", metadata={"topic": "Hidden Topic"}, at=ago(minutes=5))
    with app.app_context():
        follows.follow(hidden.id, viewer.id)
        note = db.session.scalar(select(Notification).where(Notification.learner_id == viewer.id))
        assert note.title == "A learner started following you" and note.link is None
        db.session.remove()
    login(client, auth, viewer)
    for path in ("/community/discover", "/community/discover?topic=privacy", "/community/discover?tier=ember"):
        for _ in range(3):
            body = text(client.get(path, headers=HX))
            assert "Zorbl" not in body and "zorblhidden" not in body
    assert client.get("/u/zorblhidden").status_code == 404
    assert client.get("/u/zorblhidden/followers").status_code == 404
    for path in ("/community", "/community/feed", "/u/viewer/followers", "/u/viewer/followers?page=1"):
        body = text(client.get(path))
        assert "Zorbl" not in body and "zorblhidden" not in body, path
    feed = text(client.get("/community/feed", headers=HX))
    assert re.search(r'<span class="feed-actor anonymous">A learner</span> completed a quiz on Hidden Topic', feed)
    followers = text(client.get("/u/viewer/followers", headers=HX))
    assert '<span class="person-name anonymous">A learner</span>' in followers


def test_share_tier_upgrades_off_no_tier_up_in_feeds_or_stats(app, client, auth, make_learner):
    viewer = make_learner("viewer", display_name="Viewer")
    quiet = make_learner("quiet", display_name="Quiet Person", share_tier_upgrades=False)
    give(app, quiet.id, "special_event", points=300, at=ago(minutes=5))
    login(client, auth, viewer)
    csrf = csrf_token_from(text(client.get("/community")))
    client.post("/u/quiet/follow", data={"csrf_token": csrf})
    for path in ("/community/feed", "/community/following", "/u/quiet"):
        body = text(client.get(path, headers=HX))
        assert "Quiet Person" in body and "took part in a special event" in body  # activity is shared
        assert "reached Spark" not in body, path
    stats = text(client.get("/community/stats", headers=HX))
    assert re.search(r"Tier upgrades celebrated</dt><dd>0<", stats)
    sharer = make_learner("sharer", display_name="Sharer")
    give(app, sharer.id, "special_event", points=300, at=ago(minutes=4))
    stats = text(client.get("/community/stats", headers=HX))
    assert re.search(r"Tier upgrades celebrated</dt><dd>1<", stats)
    assert "Sharer</a> reached Spark!" in text(client.get("/community/feed", headers=HX))


def test_discover_order_is_random_not_by_points(app, client, auth, make_learner):
    viewer = make_learner("viewer", display_name="Viewer")
    totals = {}
    for i in range(15):
        peer = make_learner(f"peer{i:02d}", display_name=f"Peer {i:02d}", password=None)
        totals[peer.display_name] = 100 + 37 * i
        set_total(app, peer.id, totals[peer.display_name])
    login(client, auth, viewer)
    orders = []
    for _ in range(8):
        body = text(client.get("/community/discover", headers=HX))
        orders.append(tuple(re.findall(r'class="person-name">([^<]+)</a>', body)))
    assert all(len(o) == 12 for o in orders)
    assert len(set(orders)) > 1                                   # the order differs between requests
    by_points = [tuple(sorted(o, key=totals.__getitem__, reverse=True)) for o in orders]
    assert any(o != p for o, p in zip(orders, by_points))         # not sorted by points (high first)…
    assert any(o != tuple(reversed(p)) for o, p in zip(orders, by_points))  # …nor low first
    assert sum(o == p for o, p in zip(orders, by_points)) <= 1
