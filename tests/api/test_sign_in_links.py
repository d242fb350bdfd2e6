"""``POST /api/v1/users/<external_id>/sign-in-links`` (§13; issue 13 item 2)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.api.conftest import assert_error
from thrive.extensions import db
from thrive.models import ApiKey, Learner, SignInLink
from thrive.timeutil import utcnow

URL = "/api/v1/users/{}/sign-in-links"


def test_created_link_answers_url_and_expiry(app, api):
    api.create_user("lms-1")
    before = utcnow()
    response = api.post(URL.format("lms-1"), json={"next": "/journey"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"url", "expires_at"}
    assert response.headers["Cache-Control"] == "no-store"
    url = urlsplit(body["url"])
    assert (url.scheme, url.netloc) == ("http", "localhost") and url.path.startswith("/sign-in/")
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() == timedelta(0)
    assert before + timedelta(seconds=299) <= expires <= utcnow() + timedelta(seconds=301)
    with app.app_context():
        row = db.session.scalar(select(SignInLink))
        assert row.next_path == "/journey"
        assert row.api_key_id == db.session.scalar(select(ApiKey.id))  # who asked for it


def test_the_body_is_optional(api):
    api.create_user("lms-2")
    assert api.post(URL.format("lms-2")).status_code == 201
    assert api.post(URL.format("lms-2"), json={}).status_code == 201
    assert api.post(URL.format("lms-2"), json={"next": None}).status_code == 201


def test_lifetime_and_public_url_come_from_the_settings(app, api):
    app.config.update(THRIVE_SIGN_IN_LINK_SECONDS=30, THRIVE_PUBLIC_URL="https://thrive.example.org/")
    api.create_user("lms-3")
    body = api.post(URL.format("lms-3")).get_json()
    assert body["url"].startswith("https://thrive.example.org/sign-in/")
    assert datetime.fromisoformat(body["expires_at"]) <= utcnow() + timedelta(seconds=31)


def test_unknown_external_id_is_404(api, ledger_count):
    assert_error(api.post(URL.format("nobody")), 404, "unknown_user")


def test_without_a_key_is_401(client):
    assert client.post(URL.format("lms-1")).status_code == 401


@pytest.mark.parametrize("next_path", [
    "https://evil.example/", "//evil.example", "/api/v1/users/lms-4", "/static/css/thrive.css", "/no-such-page",
    "/logout", "journey", 42,
])
def test_next_must_be_a_thrive_page(api, next_path):
    api.create_user("lms-4")
    assert_error(api.post(URL.format("lms-4"), json={"next": next_path}), 400, "invalid_next"
                 if isinstance(next_path, str) else "invalid_request")


def test_unknown_fields_and_bad_json_are_400(api):
    api.create_user("lms-5")
    assert_error(api.post(URL.format("lms-5"), json={"nxt": "/"}), 400, "invalid_request")
    assert_error(api.post(URL.format("lms-5"), data="{", content_type="application/json"), 400, "malformed_json")


def test_a_deactivated_learner_gets_no_link(app, api):
    api.create_user("lms-6")
    with app.app_context():
        db.session.scalar(select(Learner).where(Learner.external_id == "lms-6")).is_active_account = False
        db.session.commit()
    assert_error(api.post(URL.format("lms-6")), 409, "learner_deactivated")


def test_documented_in_openapi(api, client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/users/{external_id}/sign-in-links"]["post"]
    assert operation["operationId"] == "createSignInLink"
    assert set(operation["responses"]) == {"201", "400", "401", "404", "409", "413", "429"}
    schemas = document["components"]["schemas"]
    assert set(schemas["SignInLink"]["properties"]) == {"url", "expires_at"}
    assert set(schemas["SignInLink"]["required"]) == {"url", "expires_at"}
    assert set(schemas["SignInLinkRequest"]["properties"]) == {"next"}
    api.create_user("lms-7")
    assert set(api.post(URL.format("lms-7")).get_json()) == set(schemas["SignInLink"]["properties"])
