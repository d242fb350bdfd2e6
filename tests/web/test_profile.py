"""Public profiles and follow lists (§7, §8.3, §8.4): page vs fragment, privacy, follow buttons."""
from __future__ import annotations

import re

import pytest

from tests.community_support import ago, give, login
from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import Follow, Learner

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def viewer(client, auth, make_learner):
    learner = make_learner("viewer", display_name="Viewer")
    login(client, auth, learner)
    client.get("/community")  # the day's first view (daily visit toast) is behind us
    return learner


def token(client) -> str:
    return csrf_token_from(text(client.get("/community")))


def test_profile_shows_tier_level_streak_activity_and_follow_button(app, client, viewer, make_learner):
    sarah = make_learner("sarah", display_name="Sarah", topics=["DDD", "Python"])
    give(app, sarah.id, "quiz_completed", metadata={"topic": "DDD"}, at=ago(days=1, minutes=5))
    give(app, sarah.id, "special_event", points=300, at=ago(minutes=5))
    page = client.get("/u/sarah")
    assert page.status_code == 200 and "HX-Request" in page.headers.get("Vary", "")
    body = text(page)
    assert "<h1 id=\"profile-name\">Sarah</h1>" in body and "@sarah" in body
    assert "Spark" in body and re.search(r"<dt>Level</dt><dd>5</dd>", body)  # 320 points
    # plurals through ngettext (issue 11): "2 days" is one translatable unit now
    assert re.search(r"<dt>Streak</dt><dd><span aria-hidden=\"true\">🔥</span> 2 days</dd>", body)
    assert "completed a quiz on DDD" in body and "reached Spark!" in body
    assert "DDD · Python" in body
    assert 'aria-label="Follow Sarah"' in body
    fragment = client.get("/u/sarah", headers=HX)
    frag = text(fragment)
    assert "<html" not in frag and 'id="profile-activity"' in frag and "profile-name" not in frag
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_profile_activity_pages(app, client, viewer, make_learner):
    busy = make_learner("busy", display_name="Busy")
    for i in range(13):
        give(app, busy.id, "comment_posted", at=ago(hours=i + 1))
    body = text(client.get("/u/busy"))
    assert len(re.findall(r'id="feed-entry-\d+"', body)) == 10
    older = re.search(r'href="(/u/busy\?before=[^"]+)"', body).group(1)
    page2 = text(client.get(older))
    assert len(re.findall(r'id="feed-entry-\d+"', page2)) == 3 and "Back to the newest" in page2
    assert len(re.findall(r'id="feed-entry-\d+"', text(client.get(older, headers=HX)))) == 3


def test_private_and_unknown_profiles_are_404_alike(client, viewer, make_learner):
    make_learner("hidden", display_name="Hidden Person", share_profile=False)
    private, unknown = client.get("/u/hidden"), client.get("/u/nobody")
    assert private.status_code == unknown.status_code == 404
    assert "Hidden Person" not in text(private)
    assert text(private).replace("hidden", "nobody") == text(unknown).replace("hidden", "nobody")
    for path in ("/u/hidden/followers", "/u/hidden/following"):
        assert client.get(path).status_code == 404
    assert client.get("/u/hidden", headers=HX).status_code == 404


def test_owner_sees_own_profile_even_when_private(app, client, viewer):
    with app.app_context():
        db.session.get(Learner, viewer.id).share_profile = False
        db.session.commit()
    body = text(client.get("/u/viewer"))
    assert "Your profile is private" in body
    assert 'aria-label="Follow' not in body  # no follow button on your own profile


def test_share_activities_off_profile_says_private(app, client, viewer, make_learner):
    quiet = make_learner("quiet", display_name="Quiet", share_activities=False)
    give(app, quiet.id, metadata={"topic": "Secret topic"}, at=ago(minutes=5))
    body = text(client.get("/u/quiet"))
    assert "Quiet keeps their activity private." in body and "Secret topic" not in body


def test_follow_from_profile_and_lists(app, client, viewer, make_learner):
    make_learner("sarah", display_name="Sarah")
    csrf = token(client)
    response = client.post("/u/sarah/follow", data={"csrf_token": csrf, "next": "/u/sarah"})
    assert response.status_code == 302 and response.headers["Location"] == "/u/sarah"
    profile = text(client.get("/u/sarah"))
    assert 'aria-label="Unfollow Sarah"' in profile and re.search(r"Followers</a></dt><dd>1</dd>", profile)
    followers = client.get("/u/sarah/followers")
    assert followers.status_code == 200 and "Viewer" in text(followers) and "Followers of Sarah" in text(followers)
    following = client.get("/u/viewer/following")
    assert "People you follow" in text(following) and 'aria-label="Unfollow Sarah"' in text(following)
    fragment = client.get("/u/viewer/following", headers=HX)
    assert "<html" not in text(fragment) and 'id="people-panel"' in text(fragment)
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert client.get("/u/viewer/following?page=0").status_code == 400


def test_unfollow_someone_whose_profile_became_private(app, client, viewer, make_learner):
    friend = make_learner("friend", display_name="Friend Name")
    client.post("/u/friend/follow", data={"csrf_token": token(client)}, headers=HX)
    with app.app_context():
        db.session.get(Learner, friend.id).share_profile = False
        db.session.commit()
    body = text(client.get("/u/viewer/following"))
    assert "A learner" in body and "Friend Name" not in body and "/u/friend" not in body
    assert client.post("/u/friend/unfollow", data={"csrf_token": token(client)}).status_code == 404
    action = f"/community/following/{friend.id}/unfollow"
    assert f'action="{action}"' in body
    response = client.post(action, data={"csrf_token": token(client)}, headers=HX)
    assert response.status_code == 200 and "Unfollowed" in text(response)
    with app.app_context():
        assert db.session.get(Follow, (viewer.id, friend.id)) is None
    assert client.post(action, data={"csrf_token": token(client)}).status_code == 404
