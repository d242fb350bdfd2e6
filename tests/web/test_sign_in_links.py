"""Opening a one-time sign-in link in the browser (issue 13 item 2): signs in once, lands on ``next``."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import Learner
from thrive.services.accounts import sign_in_links

URL = "/api/v1/users/{}/sign-in-links"


def new_link(client, api_headers, external_id: str, **body) -> str:
    """Ask the API for a link (as the platform does); return its path."""
    response = client.post(URL.format(external_id), json=body or None, headers=api_headers)
    assert response.status_code == 201, response.get_json()
    return urlsplit(response.get_json()["url"]).path


@pytest.fixture
def platform_learner(client, api_headers) -> str:
    created = client.put("/api/v1/users/lms-1", json={"username": "plat", "display_name": "Pat Platform"},
                         headers=api_headers)
    assert created.status_code == 201
    return "lms-1"


def signed_in_id(client) -> int | None:
    with client.session_transaction() as session:
        return int(session["_user_id"].split(":")[0]) if "_user_id" in session else None


def assert_nobody_signed_in(client) -> None:
    assert signed_in_id(client) is None
    assert client.get("/").status_code == 302


def learner_id(app, external_id: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Learner.id).where(Learner.external_id == external_id))


def test_a_link_signs_the_learner_in_and_lands_on_next(app, client, api_headers, platform_learner):
    path = new_link(client, api_headers, platform_learner, next="/journey")
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/journey"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert signed_in_id(client) == learner_id(app, "lms-1")
    assert client.get("/journey").status_code == 200


def test_without_next_it_lands_on_home(client, api_headers, platform_learner):
    response = client.get(new_link(client, api_headers, platform_learner))
    assert response.headers["Location"] == "/"
    assert "Your Thrive Circle" in client.get("/").get_data(as_text=True)


def test_a_second_use_fails_and_signs_no_one_in(app, client, api_headers, platform_learner):
    path = new_link(client, api_headers, platform_learner)
    assert client.get(path).status_code == 302
    other = app.test_client()  # e.g. someone who found the link in a browser history
    response = other.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and 'data-problem="link_used"' in html
    assert "already used" in html and "nobody was signed in" in html
    assert_nobody_signed_in(other)


def test_an_expired_link_shows_a_clear_page(app, client, api_headers, platform_learner, monkeypatch):
    path = new_link(client, api_headers, platform_learner)
    later = sign_in_links.utcnow() + timedelta(seconds=app.config["THRIVE_SIGN_IN_LINK_SECONDS"] + 1)
    monkeypatch.setattr(sign_in_links, "utcnow", lambda: later)
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and 'data-problem="link_expired"' in html and "has expired" in html
    assert_nobody_signed_in(client)


def test_a_tampered_link_shows_a_clear_page(client, api_headers, platform_learner):
    path = new_link(client, api_headers, platform_learner)
    tampered = path[:-2] + ("aa" if not path.endswith("aa") else "bb")
    response = client.get(tampered)
    assert response.status_code == 400 and 'data-problem="link_invalid"' in response.get_data(as_text=True)
    assert_nobody_signed_in(client)
    assert client.get(path).status_code == 302  # the real link still works


def test_a_link_for_a_learner_deactivated_since_signs_no_one_in(app, client, api_headers, platform_learner):
    path = new_link(client, api_headers, platform_learner)
    with app.app_context():
        db.session.get(Learner, learner_id(app, "lms-1")).is_active_account = False
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 403 and 'data-problem="learner_deactivated"' in response.get_data(as_text=True)
    assert_nobody_signed_in(client)


def test_a_link_replaces_whoever_was_signed_in(app, client, api_headers, platform_learner, make_learner, auth):
    make_learner("someone")
    auth.login("someone")
    assert signed_in_id(client) is not None
    client.get(new_link(client, api_headers, platform_learner))
    assert signed_in_id(client) == learner_id(app, "lms-1")


def test_a_failed_link_signs_out_whoever_was_signed_in(client, make_learner, auth):
    make_learner("previous")
    auth.login("previous")
    assert client.get("/sign-in/" + "A" * 43).status_code == 400
    assert_nobody_signed_in(client)
