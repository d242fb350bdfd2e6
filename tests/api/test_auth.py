"""API keys (401), CSRF exemption and the per-key rate limit (429) of ``/api/v1`` (§13, §15)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from thrive.extensions import db
from thrive.models import ApiKey
from thrive.services.accounts.api_keys import create_api_key, revoke_api_key

from .conftest import ApiClient, assert_error

PROTECTED = [
    ("post", "/api/v1/events"),
    ("post", "/api/v1/events/batch"),
    ("put", "/api/v1/users/lms-1"),
    ("get", "/api/v1/users/lms-1"),
    ("get", "/api/v1/users/lms-1/events"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
@pytest.mark.parametrize("authorization", [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Bearer not-a-thrive-key",
    "Bearer thr_000000000000_wrongsecret",
])
def test_missing_or_bad_key_is_401(client, ledger_count, method, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = getattr(client, method)(path, json={"user": "lms-1", "activity_type": "quiz_completed",
                                                   "event_key": "k", "username": "ada", "events": []},
                                       headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ledger_count() == 0


def test_wrong_secret_with_a_real_prefix_is_401(client, api_key):
    tampered = api_key[:-4] + ("AAAA" if not api_key.endswith("AAAA") else "BBBB")
    response = client.get("/api/v1/users/x", headers={"Authorization": f"Bearer {tampered}"})
    assert_error(response, 401, "unauthorized")


def test_revoked_key_is_401(app, client, api_key, api_headers):
    assert client.get("/api/v1/users/x", headers=api_headers).status_code == 404  # valid key: unknown user
    with app.app_context():
        revoke_api_key(api_key.split("_")[1])
        db.session.remove()
    assert_error(client.get("/api/v1/users/x", headers=api_headers), 401, "unauthorized")


def test_scheme_is_case_insensitive(client, api_key):
    assert client.get("/api/v1/users/x", headers={"Authorization": f"bearer {api_key}"}).status_code == 404


def test_last_used_at_is_recorded(app, api, api_key):
    with app.app_context():
        assert db.session.scalar(select(ApiKey.last_used_at)) is None
        db.session.remove()
    api.get("/api/v1/users/x")
    with app.app_context():
        assert db.session.scalar(select(ApiKey.last_used_at)) is not None


def test_api_is_csrf_exempt_while_forms_are_not(app, api):
    assert app.config["WTF_CSRF_ENABLED"]
    # No CSRF token, no session: the bearer key is the credential.
    assert api.put("/api/v1/users/lms-1", json={"username": "ada"}).status_code == 201
    response = api.client.post("/login", data={"username": "ada", "password": "x"})
    assert response.status_code == 400  # the login form still demands its CSRF token


def test_openapi_document_needs_no_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.")


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config, database_url):  # database_url: keeps the backend parametrization
        return {**app_config, "THRIVE_API_RATE_LIMIT": "3 per minute"}

    def test_over_the_limit_is_429_json_with_retry_after(self, client, api_headers):
        for _ in range(3):
            assert client.get("/api/v1/users/x", headers=api_headers).status_code == 404
        response = client.get("/api/v1/users/x", headers=api_headers)
        error = assert_error(response, 429, "rate_limited")
        assert "3 per minute" in error["message"]
        assert int(response.headers["Retry-After"]) > 0
        assert response.headers["X-RateLimit-Limit"] == "3"

    def test_limit_is_shared_by_all_endpoints_of_one_key(self, client, api_headers):
        api = ApiClient(client, api_headers)
        assert api.put("/api/v1/users/lms-1", json={"username": "ada"}).status_code == 201
        assert api.get("/api/v1/users/lms-1").status_code == 200
        assert api.event("lms-1", "quiz_completed", "k").status_code == 201
        assert_error(api.get("/api/v1/users/lms-1/events"), 429, "rate_limited")

    def test_limit_is_per_key(self, app, client, api_headers):
        for _ in range(3):
            client.get("/api/v1/users/x", headers=api_headers)
        assert client.get("/api/v1/users/x", headers=api_headers).status_code == 429
        with app.app_context():
            _row, other = create_api_key("second integration")
            db.session.remove()
        assert client.get("/api/v1/users/x", headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_revoking_a_cached_key_takes_effect_at_once(app, client, api_key, api_headers, runner):
    """Valid keys are cached per process; revoking clears the cache (§13: revocable)."""
    from thrive.services.accounts.api_keys import verify_api_key_cached

    assert client.get("/api/v1/users/nobody", headers=api_headers).status_code == 404  # key accepted (and cached)
    with app.app_context():
        assert verify_api_key_cached(api_key) is not None
    prefix = api_key.split("_")[1]
    assert runner.invoke(args=["thrive", "revoke-api-key", prefix]).exit_code == 0
    assert client.get("/api/v1/users/nobody", headers=api_headers).status_code == 401
