"""Linking and unlinking the platform account from settings, and closing local accounts (issue 13 items 1, 3).

Linking completes the OpenID Connect flow against the real provider of
tests/oidc_support.py while signed in; it never matches e-mail addresses.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.oidc_support import PLATFORM, PROVIDER_WARNINGS, local_path, oidc_app_config, running_provider
from thrive.extensions import db
from thrive.models import Learner, LearnerState
from thrive.services.points.award import award

pytestmark = PROVIDER_WARNINGS


@pytest.fixture
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture
def app_config(database_url, provider) -> dict:
    return oidc_app_config(database_url, provider.issuer)


def settings_csrf(client) -> str:
    return csrf_token_from(client.get("/settings").get_data(as_text=True))


def link(client, provider, sub: str):
    """Press "Link <platform>" in settings and consent as ``sub``; return Thrive's answer to the callback."""
    response = client.post("/settings/sign-in/link", data={"csrf_token": settings_csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(local_path(provider.authorize(response.headers["Location"], sub)))


def learner(app, username: str) -> Learner:
    with app.app_context():
        row = db.session.scalar(select(Learner).where(Learner.username == username))
        db.session.expunge_all()
        return row


def points_of(app, learner_id: int) -> int:
    with app.app_context():
        return db.session.get(LearnerState, learner_id).total_points


def test_settings_offers_linking_and_linking_completes_the_flow(app, client, auth, make_learner, provider):
    local = make_learner("localbea", email="bea@example.org")
    auth.login("localbea")
    page = client.get("/settings").get_data(as_text=True)
    assert f"Link {PLATFORM}" in page and 'action="/settings/sign-in/link"' in page
    provider.set_user("lms-bea", {"preferred_username": "bea", "name": "Bea Platform", "email": "bea@example.org"})

    response = link(client, provider, "lms-bea")

    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    assert "is linked" in client.get("/settings").get_data(as_text=True)
    linked = learner(app, "bea")
    assert linked.id == local.id and linked.external_id == "lms-bea" and linked.display_name == "Bea Platform"
    # from now on the platform's door opens the same account
    auth.logout()
    start = client.get("/login/oidc").headers["Location"]
    client.get(local_path(provider.authorize(start, "lms-bea")))
    with client.session_transaction() as session:
        assert int(session["_user_id"].split(":")[0]) == local.id


def test_linking_needs_a_signed_in_learner_and_a_csrf_token(client, auth, make_learner):
    response = client.post("/settings/sign-in/link")
    assert response.status_code in (302, 400)  # sign-in required (or CSRF refused first)
    make_learner("csrfless")
    auth.login("csrfless")
    assert client.post("/settings/sign-in/link").status_code == 400  # no CSRF token


def test_an_identity_another_learner_has_is_not_linked(app, client, auth, make_learner, api_headers, provider):
    client.put("/api/v1/users/lms-owned", json={"username": "owner"}, headers=api_headers)
    make_learner("intruder")
    auth.login("intruder")
    response = link(client, provider, "lms-owned")
    assert response.headers["Location"] == "/settings"
    assert "already linked to another Thrive account" in client.get("/settings").get_data(as_text=True)
    assert learner(app, "intruder").external_id is None
    assert learner(app, "owner").external_id == "lms-owned"


def test_linking_in_a_session_that_changed_hands_is_refused(app, client, auth, make_learner, provider):
    make_learner("first")
    make_learner("second")
    auth.login("first")
    started = client.post("/settings/sign-in/link", data={"csrf_token": settings_csrf(client)})
    back = provider.authorize(started.headers["Location"], "lms-x")
    # the state lives in the session; signing in as someone else starts a new session, so it is gone
    auth.logout()
    auth.login("second")
    response = client.get(local_path(back))
    assert response.status_code == 400
    assert learner(app, "first").external_id is None and learner(app, "second").external_id is None


def test_unlinking_keeps_the_account_and_its_points(app, client, auth, make_learner):
    bea = make_learner("unlinkme", external_id="lms-u")
    with app.app_context():
        award(bea.id, "quiz_completed", event_key="u1")
        db.session.remove()
    auth.login("unlinkme")
    assert "Unlink" in client.get("/settings").get_data(as_text=True)  # (the visit's daily login is awarded)
    before = points_of(app, bea.id)
    response = client.post("/settings/sign-in/unlink", data={"csrf_token": settings_csrf(client)})
    assert response.status_code == 302
    assert "is unlinked" in client.get("/settings").get_data(as_text=True)
    after = learner(app, "unlinkme")
    assert after.external_id is None and points_of(app, bea.id) == before > 0


def test_unlinking_an_account_without_password_asks_for_one(app, client, api_headers, provider):
    client.put("/api/v1/users/lms-np", json={"username": "nopass"}, headers=api_headers)
    provider.set_user("lms-np", {"preferred_username": "nopass"})
    start = client.get("/login/oidc").headers["Location"]
    client.get(local_path(provider.authorize(start, "lms-np")))
    page = client.get("/settings").get_data(as_text=True)
    assert "has no password" in page and 'name="password"' in page

    refused = client.post("/settings/sign-in/unlink", data={"csrf_token": settings_csrf(client)})
    assert refused.status_code == 302
    assert "no password yet" in client.get("/settings").get_data(as_text=True)
    assert learner(app, "nopass").external_id == "lms-np"

    mismatch = {"csrf_token": settings_csrf(client), "password": "a-new-password", "confirm": "other"}
    client.post("/settings/sign-in/unlink", data=mismatch)
    assert learner(app, "nopass").external_id == "lms-np"

    ok = {"csrf_token": settings_csrf(client), "password": "a-new-password", "confirm": "a-new-password"}
    client.post("/settings/sign-in/unlink", data=ok)
    assert learner(app, "nopass").external_id is None
    client.post("/logout", data={"csrf_token": settings_csrf(client)})
    signed = client.post("/login", data={"username": "nopass", "password": "a-new-password",
                                         "csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True))})
    assert signed.status_code == 302 and signed.headers["Location"] == "/"


class TestLocalAccountsOff:
    @pytest.fixture
    def app_config(self, database_url, provider) -> dict:
        return oidc_app_config(database_url, provider.issuer, THRIVE_LOCAL_ACCOUNTS=False)

    def test_registration_is_refused(self, app, client):
        page = client.get("/register")
        assert page.status_code == 403 and f"please sign in with {PLATFORM}" in page.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalar(select(Learner.id)) is None

    def test_password_sign_in_is_refused_and_the_page_offers_only_the_platform(self, client, make_learner):
        make_learner("haspassword")
        page = client.get("/login").get_data(as_text=True)
        assert f"Sign in with {PLATFORM}" in page
        assert 'name="password"' not in page and ">Join<" not in page
        token = csrf_token_from(page)  # the layout's hx-headers token
        response = client.post("/login", data={"username": "haspassword", "password": "password123",
                                               "csrf_token": token})
        assert response.status_code == 403 and 'data-problem="local_off"' in response.get_data(as_text=True)
        with client.session_transaction() as session:
            assert "_user_id" not in session

    def test_unlinking_is_refused(self, app, client, provider):
        provider.set_user("lms-only", {"preferred_username": "onlyplatform"})
        start = client.get("/login/oidc").headers["Location"]
        client.get(local_path(provider.authorize(start, "lms-only")))
        page = client.get("/settings").get_data(as_text=True)
        assert "only way to sign in" in page and 'action="/settings/sign-in/unlink"' not in page
        client.post("/settings/sign-in/unlink", data={"csrf_token": settings_csrf(client),
                                                      "password": "whatever123", "confirm": "whatever123"})
        assert "cannot be unlinked" in client.get("/settings").get_data(as_text=True)
        assert learner(app, "onlyplatform").external_id == "lms-only"

