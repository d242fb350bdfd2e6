"""Accounts: register, sign in/out, CSRF, safe next, rate limiting, daily_login (§15)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from thrive.extensions import db
from thrive.models import LedgerEntry


def register(client, **overrides):
    page = client.get("/register").get_data(as_text=True)
    data = {"username": "newbie", "display_name": "New Bie", "email": "", "timezone": "Europe/Berlin",
            "password": "quiet-lantern-47", "confirm": "quiet-lantern-47", "csrf_token": csrf_token_from(page)}
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_signs_in_and_awards_daily_login(app, client):
    response = register(client)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    body = home.get_data(as_text=True)
    assert "Ember" in body and "points to Spark" in body
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry)).all()
        assert [e.activity_type for e in entries] == ["daily_login"]
        assert entries[0].points == 5
    client.get("/")  # the second view of the day awards nothing more
    with app.app_context():
        assert db.session.query(LedgerEntry).count() == 1


def test_register_rejects_taken_username_and_mismatch(client, make_learner):
    make_learner("taken")
    response = register(client, username="taken")
    assert response.status_code == 400
    assert "is taken" in response.get_data(as_text=True)
    response = register(client, confirm="different1")
    assert "Passwords do not match" in response.get_data(as_text=True)


def test_register_requires_csrf(client):
    response = client.post("/register", data={"username": "x", "password": "password123"})
    assert response.status_code == 400


def test_login_logout_and_safe_next(client, auth, make_learner):
    make_learner("learner")
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    auth.logout()
    assert client.get("/").status_code == 302
    token = auth.csrf_token()
    for target, expected in [("/u/someone", "/u/someone"), ("https://evil.example/", "/"),
                             ("//evil.example", "/"), ("/\\evil.example", "/")]:
        client.post("/logout", data={"csrf_token": token})
        token = auth.csrf_token()
        response = client.post(f"/login?next={target}",
                               data={"username": "learner", "password": "password123", "csrf_token": token})
        assert response.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": auth.csrf_token("/")})
        token = auth.csrf_token()


def test_wrong_password_and_rate_limit(client, auth, make_learner):
    make_learner("learner")
    response = auth.login(password="wrong-password")
    assert response.status_code == 400
    assert "wrong password" in response.get_data(as_text=True)
    statuses = [auth.login(password="wrong-password").status_code for _ in range(12)]
    assert 429 in statuses


def test_session_cookie_flags(client, make_learner, auth):
    make_learner("learner")
    response = auth.login()
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_is_hashed_with_scrypt(app, make_learner):
    app.config["THRIVE_PASSWORD_HASH_METHOD"] = None   # the production default, not the suite's cheap hash
    learner = make_learner("hashme", password="password123")
    assert learner.password_hash.startswith("scrypt:")
    assert "password123" not in learner.password_hash


@pytest.mark.parametrize("path", ["/", "/panels/status"])
def test_login_required(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    htmx = client.get(path, headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect", "").startswith("/login")


def test_status_panel_fragment_vs_page(client, auth, make_learner):
    make_learner("learner")
    auth.login()
    page = client.get("/panels/status").get_data(as_text=True)
    fragment = client.get("/panels/status", headers={"HX-Request": "true"})
    assert "<html" in page
    assert "<html" not in fragment.get_data(as_text=True) and 'id="status-panel"' in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")
