"""Embedding in the platform's pages: ``THRIVE_FRAME_ANCESTORS`` (issue 13 item 4)."""
from __future__ import annotations

import pytest

from tests.conftest import _config
from thrive import create_app
from thrive.web.auth.embedding import parse_frame_ancestors


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_framing_is_refused_by_default(client, make_learner, auth):
    make_learner("framed")
    response = auth.login("framed")
    assert directives(client.get("/login"))["frame-ancestors"] == ["'none'"]
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "SameSite=None" not in cookie


class TestAllowList:
    @pytest.fixture
    def app_config(self, database_url) -> dict:
        return {**_config(database_url),
                "THRIVE_FRAME_ANCESTORS": "https://learn.example.org  https://*.example.net:8443 'self'"}

    def test_listed_origins_may_frame_thrive(self, client):
        response = client.get("/login")
        assert directives(response)["frame-ancestors"] == [
            "https://learn.example.org", "https://*.example.net:8443", "'self'"]
        assert "X-Frame-Options" not in response.headers
        assert directives(response)["script-src"] == ["'self'"]  # the rest of the policy is unchanged

    def test_cookies_are_samesite_none_and_secure(self, app, client, make_learner, auth):
        make_learner("embedded")
        response = auth.login("embedded")
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert app.config["REMEMBER_COOKIE_SAMESITE"] == "None" and app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("value", ["https://a.example; script-src *", "'unsafe-inline'", "*", "ftp://x.example",
                                   "https://a.example/path", "data:"])
def test_a_source_that_could_rewrite_the_policy_is_refused_at_start(value, tmp_path):
    with pytest.raises(ValueError, match="THRIVE_FRAME_ANCESTORS"):
        create_app({**_config(f"sqlite:///{tmp_path / 'x.db'}"), "THRIVE_FRAME_ANCESTORS": value})


@pytest.mark.parametrize("value, expected", [("", ""), (None, ""), ("'none'", ""),
                                             (" https://a.example ", "https://a.example")])
def test_parse(value, expected):
    assert parse_frame_ancestors(value) == expected
