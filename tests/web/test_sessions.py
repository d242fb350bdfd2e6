"""Sign-out ends every credential; SECRET_KEY is required in production (issue 10 defects 1 and 4, §15)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import csrf_token_from
from thrive import create_app

REMEMBER = "remember_token"
SESSION = "session"


def _login(client, username="learner", remember=True):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"username": username, "password": "password123", "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302
    return response


def _signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


def _replay(app, cookies: dict):
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value)
    return fresh


def test_sign_out_clears_remember_cookie_and_replays_fail(app, client, make_learner):
    make_learner("learner")
    response = _login(client)
    remember_header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER + "="))
    expires = datetime.strptime(remember_header.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(expires.replace(tzinfo=UTC) - (datetime.now(UTC) + timedelta(days=30))) < timedelta(hours=1)
    session_cookie = client.get_cookie(SESSION).value
    remember_cookie = client.get_cookie(REMEMBER).value
    assert _signed_in(_replay(app, {REMEMBER: remember_cookie}))  # the cookie works before sign-out

    token = csrf_token_from(client.get("/").get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert any(h.startswith(REMEMBER + "=;") for h in out.headers.getlist("Set-Cookie"))
    assert client.get_cookie(REMEMBER) is None
    assert not _signed_in(client)
    # copies of the old cookies, replayed after sign-out, are worthless
    assert not _signed_in(_replay(app, {REMEMBER: remember_cookie}))
    assert not _signed_in(_replay(app, {SESSION: session_cookie}))
    assert not _signed_in(_replay(app, {SESSION: session_cookie, REMEMBER: remember_cookie}))


def test_sign_out_of_all_devices(app, make_learner):
    make_learner("learner")
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, remember=False)
    _login(phone, remember=True)
    assert _signed_in(laptop) and _signed_in(phone)
    token = csrf_token_from(laptop.get("/settings").get_data(as_text=True))
    assert "Sign out of all devices" in laptop.get("/settings").get_data(as_text=True)
    response = laptop.post("/settings/sign-out-everywhere", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not _signed_in(laptop) and not _signed_in(phone)
    _login(phone, remember=False)  # signing in again works
    assert _signed_in(phone)


def test_missing_secret_key_is_a_startup_error(database_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": None})
    # tests and debug get a random per-process key instead
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": None})
    assert app.config["SECRET_KEY"] and len(app.config["SECRET_KEY"]) >= 32
