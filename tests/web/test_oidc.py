"""OpenID Connect sign-in against a real provider running in the test (issue 13 item 1).

The provider is ``oidc-provider-mock`` (tests/oidc_support.py) over HTTP;
Thrive's Authlib client is not mocked. Every failure path ends on a clear
page with nobody signed in.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from tests.conftest import _config
from tests.oidc_support import PLATFORM, PROVIDER_WARNINGS, local_path, oidc_app_config, running_provider
from thrive.extensions import db
from thrive.models import Learner
from thrive.services.points.registry import load_registry

pytestmark = PROVIDER_WARNINGS
CALLBACK = "/login/oidc/callback"


@pytest.fixture
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture
def app_config(database_url, provider) -> dict:
    return oidc_app_config(database_url, provider.issuer)


# --- helpers ------------------------------------------------------------------------------------------------


def start(client, next_path: str | None = None) -> str:
    """Press "Sign in with …": the provider's authorization URL Thrive redirects to."""
    response = client.get("/login/oidc" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in(client, provider, sub: str, next_path: str | None = None):
    """The whole flow for ``sub``; returns Thrive's answer to the callback."""
    back = provider.authorize(start(client, next_path), sub)
    assert urlsplit(back).path == CALLBACK
    return client.get(local_path(back))


def signed_in_id(client) -> int | None:
    with client.session_transaction() as session:
        return int(session["_user_id"].split(":")[0]) if "_user_id" in session else None


def assert_nobody_signed_in(client) -> None:
    assert signed_in_id(client) is None
    home = client.get("/")
    assert home.status_code == 302 and "/login" in home.headers["Location"]


def assert_problem(response, status: int, code: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert f'data-problem="{code}"' in html, html
    assert "nobody was signed in" in html.lower() or code in ("deactivated",)
    return html


def learner_by(app, **where) -> Learner | None:
    with app.app_context():
        learner = db.session.scalar(select(Learner).filter_by(**where))
        db.session.expunge_all()
        return learner


def learner_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Learner.id)))


def daily_login_points(app) -> int:
    with app.app_context():
        return load_registry().rules["daily_login"].base_points


def total_points_shown(html: str) -> int:
    match = re.search(r"<dt>Total points</dt><dd>([\d,]+)</dd>", html)
    assert match, html
    return int(match.group(1).replace(",", ""))


# --- the happy paths ----------------------------------------------------------------------------------------


def test_first_sign_in_of_an_api_created_learner_lands_on_their_home_with_their_points(app, client, api_headers,
                                                                                        provider):
    created = client.put("/api/v1/users/lms-42", json={"username": "ada", "display_name": "Ada"},
                         headers=api_headers)
    assert created.status_code == 201
    for n, activity in enumerate(["quiz_completed", "project_created", "comment_posted"]):
        awarded = client.post("/api/v1/events", headers=api_headers,
                              json={"user": "lms-42", "activity_type": activity, "event_key": f"e{n}"})
        assert awarded.status_code == 201
    api_points = client.get("/api/v1/users/lms-42", headers=api_headers).get_json()["total_points"]
    assert api_points > 0
    provider.set_user("lms-42", {"preferred_username": "ada", "name": "Ada Lovelace", "email": "ada@example.org",
                                 "zoneinfo": "Europe/London"})
    before = learner_count(app)

    response = sign_in(client, provider, "lms-42")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    ada = learner_by(app, external_id="lms-42")
    assert signed_in_id(client) == ada.id and learner_count(app) == before
    # platform-owned fields refreshed from the claims
    assert (ada.display_name, ada.email, ada.timezone) == ("Ada Lovelace", "ada@example.org", "Europe/London")
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "Your Thrive Circle" in html
    assert total_points_shown(html) == api_points + daily_login_points(app)  # + the visit's daily login


def test_pkce_state_and_nonce_are_sent(client, provider):
    authorize_url = start(client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert query["state"] and query["nonce"] and "openid" in query["scope"].split()
    provider.set_user("lms-1", {"preferred_username": "pkce"})
    assert client.get(local_path(provider.authorize(authorize_url, "lms-1"))).status_code == 302
    (_q, form), = provider.requests_to("/oauth2/token")
    digest = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=")
    assert digest.decode() == query["code_challenge"]
    assert form["grant_type"] == "authorization_code" and "code" in form


def test_a_new_identity_creates_a_learner_the_api_then_updates(app, client, api_headers, provider):
    provider.set_user("lms-new", {"preferred_username": "newbie", "name": "New Person", "zoneinfo": "Asia/Tokyo"})
    before = learner_count(app)
    response = sign_in(client, provider, "lms-new", next_path="/journey")
    assert response.status_code == 302 and response.headers["Location"] == "/journey"
    learner = learner_by(app, external_id="lms-new")
    assert learner_count(app) == before + 1
    assert (learner.username, learner.display_name, learner.timezone) == ("newbie", "New Person", "Asia/Tokyo")
    assert learner.password_hash is None and signed_in_id(client) == learner.id
    assert "Welcome to Thrive" in client.get("/").get_data(as_text=True)
    updated = client.put("/api/v1/users/lms-new", json={"topics": ["Python"]}, headers=api_headers)
    assert updated.status_code == 200  # the platform reaches the same learner


def test_claims_refresh_the_profile_at_each_sign_in_and_a_taken_username_is_not_stolen(app, client, make_learner,
                                                                                       provider):
    make_learner("taken")
    provider.set_user("lms-9", {"preferred_username": "taken", "name": "First Name", "zoneinfo": "Not/AZone"})
    sign_in(client, provider, "lms-9")
    learner = learner_by(app, external_id="lms-9")
    assert learner.username != "taken" and learner.display_name == "First Name"
    assert learner.timezone == app.config["THRIVE_TIMEZONE"]  # an invalid zoneinfo is ignored
    client.post("/logout", data={"csrf_token": _csrf(client)})
    provider.set_user("lms-9", {"preferred_username": "renamed", "name": "Second Name", "email": "x@example.org"})
    sign_in(client, provider, "lms-9")
    again = learner_by(app, external_id="lms-9")
    assert again.id == learner.id
    assert (again.username, again.display_name, again.email) == ("renamed", "Second Name", "x@example.org")


def test_an_email_matching_a_local_account_never_links_it(app, client, make_learner, provider):
    local = make_learner("localann", email="ann@example.org")
    provider.set_user("lms-ann", {"preferred_username": "ann", "email": "ann@example.org"})
    sign_in(client, provider, "lms-ann")
    assert signed_in_id(client) != local.id
    assert learner_by(app, username="localann").external_id is None


def test_sign_out_continues_to_the_providers_end_session_endpoint(app, client, provider):
    provider.set_user("lms-5", {"preferred_username": "leaver"})
    sign_in(client, provider, "lms-5")
    response = client.post("/logout", data={"csrf_token": _csrf(client)})
    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302 and f"{location.scheme}://{location.netloc}" == provider.issuer
    assert location.path == "/oauth2/end_session"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"] and query["id_token_hint"][0]
    assert_nobody_signed_in(client)
    # the provider's form posts back to Thrive's sign-in page: the CSP allows that origin in form-action
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer}" in csp


def test_a_password_sign_out_stays_on_thrive(client, make_learner, auth):
    make_learner("plain")
    auth.login("plain")
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def _csrf(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/login").get_data(as_text=True)
                           if signed_in_id(client) is None else client.get("/settings").get_data(as_text=True))


def test_abandoned_attempts_do_not_pile_up_in_the_session_cookie(client, provider):
    first = parse_qs(urlsplit(start(client)).query)["state"][0]
    for _ in range(9):
        start(client)
    with client.session_transaction() as session:
        pending = [key for key in session if key.startswith("_state_platform_")]
    assert len(pending) == 3 and f"_state_platform_{first}" not in pending


def test_the_sign_in_page_offers_the_platform_button(client):
    html = client.get("/login?next=/journey").get_data(as_text=True)
    assert f"Sign in with {PLATFORM}" in html and 'href="/login/oidc?next=/journey"' in html
    assert 'name="password"' in html  # local accounts stay open by default


# --- failures: a clear page, nobody signed in ---------------------------------------------------------------


def test_wrong_state_is_refused(client, provider):
    provider.set_user("lms-s", {"preferred_username": "stateful"})
    back = provider.authorize(start(client), "lms-s")
    forged = re.sub(r"state=[^&]+", "state=forged-state", local_path(back))
    assert_problem(client.get(forged), 400, "state")
    assert_nobody_signed_in(client)


def test_a_callback_from_another_browser_is_refused(app, client, provider):
    provider.set_user("lms-s2", {"preferred_username": "stateful2"})
    back = provider.authorize(start(client), "lms-s2")
    other = app.test_client()  # the attacker's browser: no state in its session
    assert_problem(other.get(local_path(back)), 400, "state")
    assert_nobody_signed_in(other)


def test_a_replayed_callback_and_a_replayed_code_are_refused(app, client, provider):
    provider.set_user("lms-r", {"preferred_username": "replay"})
    back = provider.authorize(start(client), "lms-r")
    assert client.get(local_path(back)).status_code == 302
    client.post("/logout", data={"csrf_token": _csrf(client)})
    # the same callback again: its state was used up
    assert_problem(client.get(local_path(back)), 400, "state")
    assert_nobody_signed_in(client)
    # the same code with a fresh, valid state: the provider refuses the used code
    code = parse_qs(urlsplit(back).query)["code"][0]
    fresh_state = parse_qs(urlsplit(start(client)).query)["state"][0]
    assert_problem(client.get(f"{CALLBACK}?code={code}&state={fresh_state}"), 400, "code")
    assert_nobody_signed_in(client)


def test_an_id_token_with_another_nonce_is_refused(client, provider, caplog):
    """A code obtained for one attempt, injected into another: the ID token's nonce does not match."""
    provider.set_user("lms-n", {"preferred_username": "noncer"})
    back = provider.authorize(start(client), "lms-n")          # attempt A: its code carries nonce A
    code = parse_qs(urlsplit(back).query)["code"][0]
    state_b = parse_qs(urlsplit(start(client)).query)["state"][0]  # attempt B expects nonce B
    with caplog.at_level(logging.WARNING):
        response = client.get(f"{CALLBACK}?code={code}&state={state_b}")
    assert_problem(response, 400, "token")
    assert "nonce" in caplog.text
    assert_nobody_signed_in(client)


def test_denied_consent_is_a_clear_page(client, provider):
    back = provider.deny(start(client))
    assert "error=access_denied" in back
    html = assert_problem(client.get(local_path(back)), 403, "denied")
    assert "did not allow Thrive" in html
    assert_nobody_signed_in(client)


def test_a_provider_that_stops_answering_before_the_token_exchange(client, provider):
    provider.set_user("lms-u", {"preferred_username": "unlucky"})
    back = provider.authorize(start(client), "lms-u")
    provider.stop()
    html = assert_problem(client.get(local_path(back)), 502, "unreachable")
    assert f"{PLATFORM} could not be reached" in html
    assert_nobody_signed_in(client)


def test_a_deactivated_learner_is_not_signed_in(app, client, make_learner, provider):
    learner = make_learner("gone", external_id="lms-gone")
    with app.app_context():
        db.session.get(Learner, learner.id).is_active_account = False
        db.session.commit()
    provider.set_user("lms-gone", {"preferred_username": "gone"})
    assert_problem(sign_in(client, provider, "lms-gone"), 403, "deactivated")
    assert_nobody_signed_in(client)


class TestUnreachableProvider:
    @pytest.fixture
    def app_config(self, database_url) -> dict:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return oidc_app_config(database_url, f"http://127.0.0.1:{port}")

    def test_starting_a_sign_in_shows_a_clear_page(self, client):
        html = assert_problem(client.get("/login/oidc"), 502, "unreachable")
        assert f"{PLATFORM} could not be reached" in html
        assert_nobody_signed_in(client)


class TestWithoutOidc:
    @pytest.fixture
    def app_config(self, database_url) -> dict:
        return _config(database_url)

    def test_no_button_and_no_routes(self, client):
        assert "Sign in with" not in client.get("/login").get_data(as_text=True)
        assert client.get("/login/oidc").status_code == 404
        assert client.get(CALLBACK + "?code=x&state=y").status_code == 404
